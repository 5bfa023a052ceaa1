// Node flow driven by the official npm SDK (@espressif/rainmaker-base-sdk 2.1.1), unchanged, with a
// simulated device (rainmaker-sim) on the server's embedded MQTT broker:
// sign up -> confirm -> log in -> claim a node with the SDK's access token -> run the node with a
// user-mapping secret -> map it (secret-key mapping + request status polling) -> list and read it
// (config, params, connectivity) -> set params through the SDK and check exactly that delta
// reaches the device -> read the reported values back -> invalid sets fail and reach nothing ->
// the node disconnects and the SDK sees it offline -> log out.
//
// Environment (normally set by run.sh): RM_BASE_URL (no trailing slash, no /v1), RM_MAILBOX (the
// server's mailbox directory), RM_MQTT_PORT and RM_CA_FILE (the device listener and its CA),
// RM_SIM (path of rainmaker-sim), optionally RM_WORK_DIR (scratch directory for the node files).
// Prints one line per check and ends with `N passed, M failed`; exits 1 on any failure.

import { randomUUID } from "node:crypto";
import { readFile, rm } from "node:fs/promises";
import path from "node:path";

import { ESPRMBase, ESPRMUser } from "@espressif/rainmaker-base-sdk";

import {
    check, checkEqual, claimNode, configureSdkStep, confirmSignUp, describe, expectRemote, findDevice, findParam, finish,
    importSdkModule, logIn, mapNodeBySecret, need, newAccount, note, paramValue, pollUntil, requireEnv, runMappingNode,
    signUp, simulatorPrereqsStep, state, step, waitForCode,
} from "./support.mjs";

// The SDK's secret-key mapping calls (PUT/GET /v1/user/nodes/mapping) live in NodeMappingHelper,
// which its provisioning flow (ESPDevice.provision) uses but the package does not export.
const { NodeMappingHelper } = await importSdkModule("./services/ESPRMHelpers/NodeMappingHelper.js");

const {
    RM_BASE_URL: baseUrl, RM_MAILBOX: mailboxDir, RM_MQTT_PORT: mqttPort, RM_CA_FILE: caFile, RM_SIM: simBin,
} = requireEnv("nodes.test.mjs", ["RM_BASE_URL", "RM_MAILBOX", "RM_MQTT_PORT", "RM_CA_FILE", "RM_SIM"]);

// ---------------------------------------------------------------------------------------------
// Helpers over the SDK's node model.

// The shape the simulator's default model (a light with Time and Schedule services) must have
// after the SDK transformed the node_details entry.
function checkSimulatedNode(node, what) {
    checkEqual(node.id, state.nodeId, `${what}: id`);
    checkEqual(node.isPrimaryUser, true, `${what}: isPrimaryUser (node_details "primary")`);
    check(node.connectivityStatus !== undefined, `${what}: no connectivityStatus (node_details "status")`);
    checkEqual(node.connectivityStatus.isConnected, true, `${what}: connectivityStatus.isConnected`);
    check(Number.isInteger(node.connectivityStatus.lastConnectionTimestamp),
        `${what}: connectivityStatus.lastConnectionTimestamp must be an integer, got ${JSON.stringify(node.connectivityStatus.lastConnectionTimestamp)}`);
    check(node.availableTransports?.cloud !== undefined,
        `${what}: the SDK offers no cloud transport (it derives it from status.connectivity.connected)`);
    check(node.nodeConfig !== undefined, `${what}: no nodeConfig (node_details "config")`);
    checkEqual(node.nodeConfig.info?.name, "Sim Light", `${what}: config info.name`);
    checkEqual(node.nodeConfig.info?.firmwareVersion, "1.0.0", `${what}: config info.fw_version`);
    const light = findDevice(node, "Light");
    check(light !== undefined, `${what}: no "Light" device in the config`);
    checkEqual(light.type, "esp.device.lightbulb", `${what}: Light type`);
    checkEqual(light.primaryParam?.name, "Power", `${what}: Light primary param`);
    checkEqual(light.params.map((p) => p.name), ["Name", "Power", "Brightness", "Temperature"], `${what}: Light params`);
    const power = findParam(node, "Light", "Power");
    checkEqual(power.dataType, "bool", `${what}: Light.Power data_type`);
    checkEqual(power.uiType, "esp.ui.toggle", `${what}: Light.Power ui_type`);
    const brightness = findParam(node, "Light", "Brightness");
    checkEqual(brightness.bounds, { min: 0, max: 100, step: 1 }, `${what}: Light.Brightness bounds`);
    checkEqual((node.nodeConfig.services ?? []).map((s) => s.name), ["Time", "Schedule"], `${what}: services`);
}

// One entry of a PUT /v1/user/nodes/params batch answer.
function checkBatchResult(entry, nodeId, status, what) {
    check(entry !== null && typeof entry === "object", `${what}: entry is not an object: ${JSON.stringify(entry)}`);
    checkEqual(entry.node_id, nodeId, `${what}: node_id`);
    checkEqual(entry.status, status, `${what}: status (${JSON.stringify(entry)})`);
    check(typeof entry.description === "string" && entry.description.length > 0,
        `${what}: "description" must be a non-empty string`);
    if (status === "failure") {
        check(Number.isInteger(entry.error_code), `${what}: "error_code" must be an integer; ${JSON.stringify(entry)}`);
    }
}

// A single-node set through the SDK answers an array with one entry for the node.
function checkSingleResult(response, status, what) {
    check(Array.isArray(response) && response.length === 1,
        `${what}: expected a one-entry array, got ${JSON.stringify(response)}`);
    checkBatchResult(response[0], state.nodeId, status, what);
    return response[0];
}

// ---------------------------------------------------------------------------------------------
// The flow.

const { email, password } = newAccount("sdk-nodes");
const mappingSecret = randomUUID();  // what the SDK's provisioning uses as the secret key

console.log(`# SDK ${ESPRMBase.currentVersion()} against ${baseUrl}, devices on 127.0.0.1:${mqttPort}, user ${email}`);

await simulatorPrereqsStep({ simBin, caFile, mqttPort, prefix: "nodes-test-" });

await configureSdkStep(baseUrl);

await step("sign up, confirm with the mailed code, log in (auth.sendSignUpCode, confirmSignUp, login)", async () => {
    need("auth");
    await signUp(email, password);
    await confirmSignUp(email, await waitForCode(mailboxDir, email));
    state.user = await logIn(email, password);
});

await step("user.getUserInfo() gives the user id the node maps to", async () => {
    need("user");
    const info = await state.user.getUserInfo();
    check(typeof info.userId === "string" && info.userId.length > 0, `userId missing: ${JSON.stringify(info)}`);
    checkEqual(info.userId, ESPRMUser.userId, "userId vs. ESPRMUser.userId (from the id token)");
    state.userId = info.userId;
});

await step("ESPRMBase.getMQTTHost() -> GET /mqtt_host answers a host", async () => {
    need("auth");
    const host = await ESPRMBase.getMQTTHost();
    check(typeof host === "string" && host.length > 0, `mqtt_host: ${JSON.stringify(host)}`);
    state.mqttHost = host;
});

await step("claim a node: rainmaker-sim claim with the SDK's access token (POST /claim/initiate, /claim/verify)", async () => {
    need("user", "prereqs");
    const token = await ESPRMUser.getAccessToken();
    const nodeDir = path.join(state.workDir, "node");
    const nodeId = await claimNode({ simBin, baseUrl, token, nodeDir });
    checkEqual((await readFile(path.join(nodeDir, "node_id"), "utf8")).trim(), nodeId, "node_id file");
    const certificate = await readFile(path.join(nodeDir, "node.crt"), "utf8");
    check(certificate.includes("-----BEGIN CERTIFICATE-----"), "node.crt holds no PEM certificate");
    if (state.mqttHost !== undefined) {
        const claimHost = await readFile(path.join(nodeDir, "mqtt_host"), "utf8").catch(() => undefined);
        checkEqual(claimHost?.trim(), state.mqttHost, "mqtt_host from /claim/verify vs. GET /mqtt_host");
    }
    state.nodeDir = nodeDir;
    state.nodeId = nodeId;
});

await step("run the node (rainmaker-sim run --map-user <user id> --map-secret <secret>) until ready", async () => {
    need("nodeDir", "userId");
    await runMappingNode({ simBin, nodeDir: state.nodeDir, mqttPort, caFile, userId: state.userId, secret: mappingSecret });
    state.simReady = true;
});

await step("map the node: secret-key PUT /v1/user/nodes/mapping, then GET ?request_id= until confirmed", async () => {
    need("simReady", "nodeId");
    await mapNodeBySecret(NodeMappingHelper, state.nodeId, mappingSecret);
    state.mapped = true;
});

await step("a wrong secret is not confirmed (the request stays open)", async () => {
    need("mapped");
    const requestId = await NodeMappingHelper.addNodeMapping(state.nodeId, `${mappingSecret}-wrong`);
    const status = await NodeMappingHelper.getNodeMappingStatus(requestId);
    check(status !== "confirmed", `the mapping request with a wrong secret is ${JSON.stringify(status)}`);
});

await step("user.getUserNodes() lists the node with config, params and connectivity connected:true", async () => {
    need("mapped");
    const node = await pollUntil(async () => {
        const page = await state.user.getUserNodes();
        const found = page.nodes.find((n) => n.id === state.nodeId);
        check(found !== undefined, `node ${state.nodeId} not in ${JSON.stringify(page.nodes.map((n) => n.id))}`);
        check(found.connectivityStatus?.isConnected === true,
            `connectivity ${JSON.stringify(found.connectivityStatus)}`);
        check(paramValue(found, "Light", "Power") !== undefined, "no reported value for Light.Power yet");
        checkEqual(page.hasNext, false, "hasNext for a one-node account");
        return found;
    }, "the node did not show up connected with params");
    checkSimulatedNode(node, "getUserNodes");
    // The values the simulator reported at boot (params/local/init).
    checkEqual(paramValue(node, "Light", "Power"), false, "Light.Power");
    checkEqual(paramValue(node, "Light", "Brightness"), 50, "Light.Brightness");
    checkEqual(paramValue(node, "Light", "Temperature"), 21.5, "Light.Temperature");
    checkEqual(findDevice(node, "Light").displayName, "Light", "Light displayName (from the esp.param.name param)");
    checkEqual(node.nodeConfig.services.find((s) => s.name === "Time").params[0].value, "", "Time.TZ");
    state.node = node;  // holds the node: its params only keep a WeakRef to it
});

await step("user.getNodeDetails(nodeId) -> GET /v1/user/nodes?node_id= reads the same node", async () => {
    need("node");
    const node = await state.user.getNodeDetails(state.nodeId);
    checkSimulatedNode(node, "getNodeDetails");
    checkEqual(paramValue(node, "Light", "Brightness"), 50, "Light.Brightness");
});

await step("node.getConnectivityStatus() and node.getNodeConfig() (GET /status, /config)", async () => {
    need("node");
    const status = await state.node.getConnectivityStatus();
    checkEqual(status.isConnected, true, "isConnected");
    check(Number.isInteger(status.lastConnectionTimestamp), `lastConnectionTimestamp ${status.lastConnectionTimestamp}`);
    const config = await state.node.getNodeConfig();
    checkEqual(config.info.name, "Sim Light", "config info.name");
    checkEqual(config.devices.map((d) => d.name), ["Light"], "config devices");
});

await step("param.setValue(true) on Light.Power: the device receives exactly {\"Light\":{\"Power\":true}}", async () => {
    need("node", "sim");
    const power = findParam(state.node, "Light", "Power");
    const from = state.sim.mark();
    checkSingleResult(await power.setValue(true), "success", "setValue answer");
    state.afterPower = await expectRemote(from, { Light: { Power: true } }, "setValue");
});

await step("after a refresh the SDK reads the reported Light.Power true (device.getParams, getNodeDetails)", async () => {
    need("afterPower");
    const light = findDevice(state.node, "Light");
    await pollUntil(async () => {
        const params = await light.getParams();  // GET /v1/user/nodes/params through the cloud transport
        const power = params.find((p) => p.name === "Power");
        return power?.value === true ? true : undefined;
    }, "GET /v1/user/nodes/params did not report Light.Power true");
    const node = await state.user.getNodeDetails(state.nodeId);
    checkEqual(paramValue(node, "Light", "Power"), true, "getNodeDetails Light.Power");
    checkEqual(paramValue(node, "Light", "Brightness"), 50, "getNodeDetails Light.Brightness (unchanged)");
    const page = await state.user.getUserNodes();
    checkEqual(paramValue(page.nodes.find((n) => n.id === state.nodeId), "Light", "Power"), true,
        "getUserNodes Light.Power");
    state.node = node;
});

await step("node.setMultipleParams({Light: [{Brightness: 75}, {Name: \"Desk\"}]}) reaches the device as one delta", async () => {
    need("node", "sim");
    const from = state.sim.mark();
    const response = await state.node.setMultipleParams({ Light: [{ Brightness: 75 }, { Name: "Desk" }] });
    checkSingleResult(response, "success", "setMultipleParams answer");
    await expectRemote(from, { Light: { Brightness: 75, Name: "Desk" } }, "setMultipleParams");
    const node = await pollUntil(async () => {
        const fresh = await state.user.getNodeDetails(state.nodeId);
        return paramValue(fresh, "Light", "Brightness") === 75 ? fresh : undefined;
    }, "getNodeDetails did not report Light.Brightness 75");
    checkEqual(paramValue(node, "Light", "Name"), "Desk", "Light.Name");
    checkEqual(findDevice(node, "Light").displayName, "Desk", "Light displayName (follows the reported name)");
    state.node = node;
    state.setMultiple = true;
});

await step("invalid sets through the SDK give failure entries with error_code, and reach nothing", async () => {
    need("node", "sim");
    const from = state.sim.mark();
    const invalid = [
        ["Light.Power \"on\" (not a bool)", () => findParam(state.node, "Light", "Power").setValue("on")],
        ["Light.Brightness 1000 (above bounds.max)", () => state.node.setMultipleParams({ Light: [{ Brightness: 1000 }] })],
        ["Light.Temperature (read-only)", () => state.node.setMultipleParams({ Light: [{ Temperature: 30 }] })],
        ["Light.Nope (not in the config)", () => state.node.setMultipleParams({ Light: [{ Nope: 1 }] })],
        ["Fan.Power (no such device)", () => state.node.setMultipleParams({ Fan: [{ Power: true }] })],
    ];
    const codes = [];
    for (const [what, set] of invalid) {
        let response;
        try {
            response = await set();
        } catch (error) {
            throw new Error(`${what}: the SDK threw instead of answering a failure entry: ${describe(error)}`);
        }
        const entry = checkSingleResult(response, "failure", what);
        codes.push(`${entry.error_code}`);
    }
    note(`error_code of the invalid sets: ${codes.join(", ")}`);
    // Messages to one node arrive in order: if the next delta the device sees is this valid one,
    // none of the invalid sets was published.
    checkSingleResult(await findParam(state.node, "Light", "Power").setValue(false), "success", "the valid set after them");
    await expectRemote(from, { Light: { Power: false } }, "the valid set after the invalid ones");
    checkEqual(state.sim.events("params/remote", from).length, 1, "params/remote events since the invalid sets");
});

await step("user.setMultipleNodesParams with an unknown node: per-node success and failure entries", async () => {
    need("node", "sim");
    const from = state.sim.mark();
    const response = await state.user.setMultipleNodesParams([
        { nodeId: state.nodeId, payload: { Light: [{ Power: true }] } },
        { nodeId: "not-a-node-of-this-user", payload: { Light: [{ Power: true }] } },
    ]);
    check(Array.isArray(response) && response.length === 2, `expected two entries, got ${JSON.stringify(response)}`);
    checkBatchResult(response[0], state.nodeId, "success", "entry for the node");
    checkBatchResult(response[1], "not-a-node-of-this-user", "failure", "entry for the unknown node");
    await expectRemote(from, { Light: { Power: true } }, "setMultipleNodesParams");
});

await step("stop the node: the simulator quits cleanly and the SDK sees connected:false", async () => {
    need("sim", "mapped");
    const ended = await state.sim.stop();
    check(ended.code === 0, `the simulator ended with ${JSON.stringify(ended)}`);
    const status = await pollUntil(async () => {
        const fresh = await state.user.getNodeDetails(state.nodeId);
        return fresh.connectivityStatus?.isConnected === false ? fresh.connectivityStatus : undefined;
    }, "getNodeDetails still reports the node connected");
    check(Number.isInteger(status.lastConnectionTimestamp), "lastConnectionTimestamp after the disconnect");
    const direct = await state.node.getConnectivityStatus();
    checkEqual(direct.isConnected, false, "node.getConnectivityStatus() isConnected");
    const node = await state.user.getNodeDetails(state.nodeId);
    checkEqual(Object.keys(node.availableTransports ?? {}), [], "transports the SDK offers for an offline node");
    checkEqual(paramValue(node, "Light", "Power"), true, "Light.Power (last reported) is kept while offline");
});

await step("log out: user.logout()", async () => {
    need("user");
    checkEqual((await state.user.logout())?.status, "success", "response status");
});

// ---------------------------------------------------------------------------------------------

if (state.sim !== undefined) {
    await state.sim.stop();
}
if (state.workDir !== undefined) {
    await rm(state.workDir, { recursive: true, force: true });
}
finish();
