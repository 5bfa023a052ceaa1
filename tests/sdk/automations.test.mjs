// Automations driven by the official npm SDK (@espressif/rainmaker-base-sdk 2.1.1), unchanged, with
// a simulated device (rainmaker-sim): the calls the SDK makes for #87-#90 and how it reads the
// answers back into its ESPAutomation model.
// sign up -> log in -> claim, run and map a node -> user.getAutomations() before any (127016) ->
// node.addAutomation (node_params) -> user.getAutomations(), node.getAutomations(),
// user.getAutomationDetail() read it back as the SDK models it -> the device reports a hot
// temperature and receives the automation's action -> automation.update / updateName /
// setRetrigger / enable(false) -> user.addDaylightBasedAutomation (location as strings) ->
// user.addWeatherBasedAutomation fails with 124021 (run.sh configures no weather provider) ->
// automation.delete() -> the node stops, log out.
//
// Environment (normally set by run.sh): RM_BASE_URL, RM_MAILBOX, RM_MQTT_PORT, RM_CA_FILE, RM_SIM,
// optionally RM_WORK_DIR. Prints one line per check and ends with `N passed, M failed`.

import { randomUUID } from "node:crypto";
import { rm } from "node:fs/promises";
import path from "node:path";

import {
    ESPAutomationConditionOperator, ESPAutomationEventType, ESPDaylightEvent, ESPRMUser,
} from "@espressif/rainmaker-base-sdk";

import {
    check, checkEqual, claimNode, configureSdkStep, confirmSignUp, expectFailure, finish, importSdkModule, logIn,
    mapNodeBySecret, need, newAccount, pollUntil, requireEnv, runMappingNode, signUp, simulatorPrereqsStep, state,
    step, waitForCode,
} from "./support.mjs";

const { NodeMappingHelper } = await importSdkModule("./services/ESPRMHelpers/NodeMappingHelper.js");

const {
    RM_BASE_URL: baseUrl, RM_MAILBOX: mailboxDir, RM_MQTT_PORT: mqttPort, RM_CA_FILE: caFile, RM_SIM: simBin,
} = requireEnv("automations.test.mjs", ["RM_BASE_URL", "RM_MAILBOX", "RM_MQTT_PORT", "RM_CA_FILE", "RM_SIM"]);

const { email, password } = newAccount("sdk-automations");
const mappingSecret = randomUUID();

// The automation the SDK reads back, as it models a node_params automation.
function checkHotAutomation(automation, what, name = "Too hot") {
    checkEqual(automation.automationName, name, `${what}: automationName (the answer's "name")`);
    check(typeof automation.automationId === "string" && automation.automationId.length > 0,
        `${what}: automationId ${JSON.stringify(automation.automationId)}`);
    checkEqual(automation.eventType, ESPAutomationEventType.NodeParams, `${what}: eventType`);
    checkEqual(automation.nodeId, state.nodeId, `${what}: nodeId`);
    checkEqual(automation.enabled, true, `${what}: enabled`);
    checkEqual(automation.retrigger, false, `${what}: retrigger`);
    checkEqual(automation.events, [{ deviceName: "Light", param: "Temperature", value: 25, check: ">" }],
        `${what}: events`);
    checkEqual(automation.actions, [{ nodeId: state.nodeId, deviceName: "Light", param: "Power", value: true }],
        `${what}: actions`);
    checkEqual(automation.metadata, { icon: "flame" }, `${what}: metadata`);
}

await simulatorPrereqsStep({ simBin, caFile, mqttPort, prefix: "automations-test-" });

await configureSdkStep(baseUrl);

await step("sign up, confirm, log in", async () => {
    need("auth");
    await signUp(email, password);
    await confirmSignUp(email, await waitForCode(mailboxDir, email));
    state.user = await logIn(email, password);
    state.userId = (await state.user.getUserInfo()).userId;
});

await step("claim, run and map a node", async () => {
    need("user", "prereqs");
    const nodeDir = path.join(state.workDir, "node");
    state.nodeId = await claimNode({ simBin, baseUrl, token: await ESPRMUser.getAccessToken(), nodeDir });
    await runMappingNode({ simBin, nodeDir, mqttPort, caFile, userId: state.userId, secret: mappingSecret });
    await mapNodeBySecret(NodeMappingHelper, state.nodeId, mappingSecret);
    state.node = await pollUntil(async () => {
        const page = await state.user.getUserNodes();
        const node = page.nodes.find((n) => n.id === state.nodeId);
        return node?.nodeConfig !== undefined ? node : undefined;
    }, "the node did not show up with its config");
});

await step("user.getAutomations() before any: 127016 No Automation trigger found", async () => {
    need("user");
    await expectFailure(() => state.user.getAutomations(), 127016, "getAutomations");
});

await step("node.addAutomation(): POST /v1/user/node_automation (node_params)", async () => {
    need("node");
    const automation = await state.node.addAutomation({
        name: "Too hot",
        events: [{ deviceName: "Light", param: "Temperature", value: 25, check: ESPAutomationConditionOperator.GREATER_THAN }],
        actions: [{ nodeId: state.nodeId, deviceName: "Light", param: "Power", value: true }],
        retrigger: false,
        metadata: { icon: "flame" },
    });
    check(typeof automation.automationId === "string" && automation.automationId.length === 22,
        `automationId ${JSON.stringify(automation.automationId)}`);
    state.automationId = automation.automationId;
});

await step("a second automation of the same name: 127010", async () => {
    need("automationId");
    await expectFailure(() => state.node.addAutomation({
        name: "Too hot",
        events: [{ deviceName: "Light", param: "Brightness", value: 10, check: "<" }],
        actions: [{ nodeId: state.nodeId, deviceName: "Light", param: "Power", value: false }],
        retrigger: false,
    }), 127010, "addAutomation with a taken name");
});

await step("user.getAutomations(), node.getAutomations(), user.getAutomationDetail() read it as the SDK models it", async () => {
    need("automationId");
    const all = await state.user.getAutomations();
    checkEqual(all.automations.length, 1, "user automations");
    checkEqual(all.hasNext, false, "hasNext");
    checkHotAutomation(all.automations[0], "getAutomations");
    const mine = await state.node.getAutomations();
    checkEqual(mine.automations.length, 1, "node automations");
    checkHotAutomation(mine.automations[0], "node.getAutomations");
    const detail = await state.user.getAutomationDetail(state.automationId);
    checkHotAutomation(detail, "getAutomationDetail");
    state.automation = detail;
});

await step("the device reports 30 degrees: it receives the automation's action {\"Light\":{\"Power\":true}}", async () => {
    need("automation", "sim");
    const from = state.sim.mark();
    state.sim.send("set Light.Temperature 30");
    const remote = await state.sim.waitForJson("params/remote", from);
    checkEqual(remote.value, { Light: { Power: true } }, "params/remote");
});

await step("automation.update / updateName / setRetrigger / enable(false): PUT ?automation_id=", async () => {
    need("automation");
    await state.automation.update({ metadata: { icon: "sun" } });
    await state.automation.updateName("Hot");
    await state.automation.setRetrigger(true);
    await state.automation.enable(false);
    const detail = await state.user.getAutomationDetail(state.automationId);
    checkEqual(detail.automationName, "Hot", "name");
    checkEqual(detail.metadata, { icon: "sun" }, "metadata (overwritten)");
    checkEqual(detail.retrigger, true, "retrigger");
    checkEqual(detail.enabled, false, "enabled");
    checkEqual(detail.events, [{ deviceName: "Light", param: "Temperature", value: 25, check: ">" }], "events kept");
});

await step("user.addDaylightBasedAutomation(): sunset at a place given as strings", async () => {
    need("user", "nodeId");
    const automation = await state.user.addDaylightBasedAutomation({
        name: "Dusk",
        events: [ESPDaylightEvent.Sunset],
        actions: [{ nodeId: state.nodeId, deviceName: "Light", param: "Power", value: true }],
        retrigger: false,
        location: { latitude: "18.5204", longitude: "73.8567" },
    });
    const detail = await state.user.getAutomationDetail(automation.automationId);
    checkEqual(detail.eventType, ESPAutomationEventType.Daylight, "eventType");
    checkEqual(detail.events, ["sunset"], "events (the SDK reads the daylight key)");
    checkEqual(detail.location, { latitude: "18.5204", longitude: "73.8567" }, "location as given");
    checkEqual(detail.nodeId, undefined, "a location automation has no node_id");
    const all = await state.user.getAutomations();
    checkEqual(all.automations.map((a) => a.automationName).sort(), ["Dusk", "Hot"], "both listed");
});

await step("user.addWeatherBasedAutomation() without a weather provider: 124021", async () => {
    need("user", "nodeId");
    await expectFailure(() => state.user.addWeatherBasedAutomation({
        name: "Rainy",
        events: ["Rain"],
        actions: [{ nodeId: state.nodeId, deviceName: "Light", param: "Power", value: false }],
        retrigger: false,
        location: { latitude: "18.5204", longitude: "73.8567" },
    }), 124021, "addWeatherBasedAutomation");
});

await step("automation.delete(): DELETE ?automation_id=, then it does not exist (127012)", async () => {
    need("automation");
    checkEqual((await state.automation.delete())?.status, "success", "delete status");
    await expectFailure(() => state.user.getAutomationDetail(state.automationId), 127012, "getAutomationDetail");
    const all = await state.user.getAutomations();
    checkEqual(all.automations.map((a) => a.automationName), ["Dusk"], "what is left");
});

await step("log out", async () => {
    need("user");
    checkEqual((await state.user.logout())?.status, "success", "logout status");
});

if (state.sim !== undefined) {
    await state.sim.stop();
}
if (state.workDir !== undefined) {
    await rm(state.workDir, { recursive: true, force: true });
}
finish();
