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

import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { constants as fsConstants } from "node:fs";
import { access, mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";

import { ESPRMBase, ESPRMUser } from "@espressif/rainmaker-base-sdk";

import {
    check, checkEqual, configureSdkStep, confirmSignUp, describe, finish, kStepTimeoutMs, logIn, need, newAccount, note,
    pollUntil, requireEnv, signUp, state, step, waitForCode,
} from "./support.mjs";

// The SDK's secret-key mapping calls (PUT/GET /v1/user/nodes/mapping) live in NodeMappingHelper,
// which its provisioning flow (ESPDevice.provision) uses but the package does not export. Loading
// it from the SDK's own dist directory gives the very module instance index.js uses, so it shares
// the configured base URL and the stored tokens.
const { NodeMappingHelper } = await import(
    new URL("./services/ESPRMHelpers/NodeMappingHelper.js", import.meta.resolve("@espressif/rainmaker-base-sdk"))
);

const kSimEventWaitMs = 15_000;  // connect + TLS + boot of the simulator (ASan builds are slow)
const kSimStopWaitMs = 5_000;

const {
    RM_BASE_URL: baseUrl, RM_MAILBOX: mailboxDir, RM_MQTT_PORT: mqttPort, RM_CA_FILE: caFile, RM_SIM: simBin,
} = requireEnv("nodes.test.mjs", ["RM_BASE_URL", "RM_MAILBOX", "RM_MQTT_PORT", "RM_CA_FILE", "RM_SIM"]);

// ---------------------------------------------------------------------------------------------
// The device simulator: `rainmaker-sim claim` (one-shot) and `rainmaker-sim run` (long-running,
// one event per stdout line: `connected`, `ready`, `params/remote {json}`, `applied {json}`, ...;
// commands on stdin).

async function runToCompletion(args, timeoutMs) {
    return new Promise((resolve, reject) => {
        const child = spawn(simBin, args, { stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.setEncoding("utf8").on("data", (chunk) => { stdout += chunk; });
        child.stderr.setEncoding("utf8").on("data", (chunk) => { stderr += chunk; });
        const timer = setTimeout(() => {
            child.kill("SIGKILL");
            reject(new Error(`rainmaker-sim ${args[0]} did not finish within ${timeoutMs} ms; stderr: ${stderr.trim()}`));
        }, timeoutMs);
        child.on("error", (error) => {
            clearTimeout(timer);
            reject(error);
        });
        child.on("close", (code, signal) => {
            clearTimeout(timer);
            resolve({ code, signal, stdout, stderr });
        });
    });
}

class Simulator {
    constructor(args) {
        this.lines = [];
        this.waiters = new Set();
        this.stderr = "";
        this.exit = null;
        this.child = spawn(simBin, args, { stdio: ["pipe", "pipe", "pipe"] });
        this.exited = new Promise((resolve) => {
            this.child.on("close", (code, signal) => {
                this.exit = { code, signal };
                this.#wake();
                resolve(this.exit);
            });
        });
        this.child.on("error", (error) => {
            this.exit = { error };
            this.#wake();
        });
        this.child.stdin.on("error", () => {});  // EPIPE after the simulator exited
        this.child.stderr.setEncoding("utf8").on("data", (chunk) => { this.stderr += chunk; });
        createInterface({ input: this.child.stdout }).on("line", (line) => {
            this.lines.push(line);
            if (line.startsWith("error")) {
                note(`simulator: ${line}`);
            }
            this.#wake();
        });
    }

    #wake() {
        for (const waiter of this.waiters) {
            waiter();
        }
    }

    // Index the next event line will get: a mark to wait for events after an action.
    mark() {
        return this.lines.length;
    }

    // Events `name` (the word before the first space) from index `from` on, with their payloads.
    events(name, from = 0) {
        return this.lines.slice(from).map((line, offset) => ({ index: from + offset, line }))
            .filter(({ line }) => line === name || line.startsWith(`${name} `))
            .map(({ index, line }) => ({ index, payload: line.slice(name.length + 1) }));
    }

    // The first event `name` at or after `from`; fails on timeout or when the simulator exits.
    async waitFor(name, from = 0, timeoutMs = kSimEventWaitMs) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            const found = this.events(name, from)[0];
            if (found !== undefined) {
                return found;
            }
            if (this.exit !== null) {
                throw new Error(`the simulator exited (${JSON.stringify(this.exit)}) before "${name}"; ${this.#context()}`);
            }
            const left = deadline - Date.now();
            if (left <= 0) {
                throw new Error(`no "${name}" event from the simulator within ${timeoutMs} ms; ${this.#context()}`);
            }
            await new Promise((resolve) => {
                const done = () => {
                    clearTimeout(timer);
                    this.waiters.delete(done);
                    resolve();
                };
                const timer = setTimeout(done, Math.min(left, 500));
                this.waiters.add(done);
            });
        }
    }

    // The JSON payload of the first `name` event at or after `from`.
    async waitForJson(name, from, timeoutMs = kSimEventWaitMs) {
        const event = await this.waitFor(name, from, timeoutMs);
        try {
            return { index: event.index, value: JSON.parse(event.payload) };
        } catch {
            throw new Error(`"${name}" payload is not JSON: ${event.payload}`);
        }
    }

    #context() {
        const tail = this.lines.slice(-8).join(" | ");
        const err = this.stderr.trim().split("\n").slice(-5).join(" | ");
        return `last events: [${tail}]${err ? `; stderr: [${err}]` : ""}`;
    }

    send(command) {
        if (this.exit === null && this.child.stdin.writable) {
            this.child.stdin.write(`${command}\n`);
        }
    }

    // `quit` on stdin, then SIGTERM, then SIGKILL; returns how it ended.
    async stop() {
        if (this.exit !== null) {
            return this.exit;
        }
        this.send("quit");
        this.child.stdin.end();
        for (const signal of ["SIGTERM", "SIGKILL"]) {
            const ended = await Promise.race([this.exited, sleep(kSimStopWaitMs).then(() => null)]);
            if (ended !== null) {
                return ended;
            }
            note(`the simulator did not exit; sending ${signal}`);
            this.child.kill(signal);
        }
        return this.exited;
    }

    // Synchronous last resort for process exit and signals.
    killNow() {
        if (this.exit === null) {
            this.child.kill("SIGKILL");
        }
    }
}

let simulator = null;
process.on("exit", () => simulator?.killNow());
for (const [signal, status] of [["SIGINT", 130], ["SIGTERM", 143]]) {
    process.on(signal, () => {
        simulator?.killNow();
        process.exit(status);
    });
}

// ---------------------------------------------------------------------------------------------
// Helpers over the SDK's node model.

function findDevice(node, name) {
    return node.nodeConfig?.devices?.find((device) => device.name === name);
}

function findParam(node, deviceName, paramName) {
    return findDevice(node, deviceName)?.params?.find((param) => param.name === paramName);
}

function paramValue(node, deviceName, paramName) {
    return findParam(node, deviceName, paramName)?.value;
}

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

// The next params/remote the simulator receives after `from` must be exactly `delta`, and the
// simulator must apply it (applied <delta>).
async function expectRemote(from, delta, what) {
    const remote = await state.sim.waitForJson("params/remote", from);
    checkEqual(remote.value, delta, `${what}: params/remote received by the device`);
    const applied = await state.sim.waitForJson("applied", remote.index);
    checkEqual(applied.value, delta, `${what}: params the device applied and reported`);
    return applied.index;
}

// ---------------------------------------------------------------------------------------------
// The flow.

const { email, password } = newAccount("sdk-nodes");
const mappingSecret = randomUUID();  // what the SDK's provisioning uses as the secret key

console.log(`# SDK ${ESPRMBase.currentVersion()} against ${baseUrl}, devices on 127.0.0.1:${mqttPort}, user ${email}`);

await step("the simulator binary and the broker CA are there", async () => {
    await access(simBin, fsConstants.X_OK).catch(() => {
        throw new Error(`RM_SIM ${simBin} is not executable (build the rainmaker-sim target)`);
    });
    await access(caFile, fsConstants.R_OK).catch(() => {
        throw new Error(`RM_CA_FILE ${caFile} is not readable`);
    });
    check(/^\d+$/.test(mqttPort) && Number(mqttPort) > 0, `RM_MQTT_PORT ${mqttPort} is not a port`);
    const parent = process.env.RM_WORK_DIR || os.tmpdir();
    state.workDir = await mkdtemp(path.join(parent, "nodes-test-"));
    state.ownsWorkDir = true;
    state.prereqs = true;
});

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
    const claimed = await runToCompletion(["claim", "--api", baseUrl, "--token", token, "--out", nodeDir], kStepTimeoutMs - 2_000);
    check(claimed.code === 0,
        `rainmaker-sim claim exited with ${JSON.stringify({ code: claimed.code, signal: claimed.signal })}: ${claimed.stderr.trim()}`);
    const nodeId = claimed.stdout.trim();
    check(/^[A-Za-z0-9_-]{1,64}$/.test(nodeId), `claim printed ${JSON.stringify(claimed.stdout)}, not a node id`);
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
    simulator = new Simulator([
        "run", "--node-dir", state.nodeDir, "--mqtt-host", "127.0.0.1", "--mqtt-port", mqttPort, "--ca", caFile,
        "--map-user", state.userId, "--map-secret", mappingSecret,
    ]);
    state.sim = simulator;
    const connected = await state.sim.waitFor("connected");
    // The mapping message is PUBACKed before the node goes on with its boot (init params).
    await state.sim.waitFor("mapping-acked", connected.index);
    await state.sim.waitFor("ready", connected.index);
    state.simReady = true;
});

await step("map the node: secret-key PUT /v1/user/nodes/mapping, then GET ?request_id= until confirmed", async () => {
    need("simReady", "nodeId");
    const requestId = await NodeMappingHelper.addNodeMapping(state.nodeId, mappingSecret);
    check(typeof requestId === "string" && requestId.length > 0, `request_id: ${JSON.stringify(requestId)}`);
    let lastStatus;
    await pollUntil(async () => {
        lastStatus = await NodeMappingHelper.getNodeMappingStatus(requestId);
        check(lastStatus !== "timedout", "the mapping request timed out");
        return lastStatus === "confirmed" ? true : undefined;
    }, "the mapping request was not confirmed");
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

if (simulator !== null) {
    await simulator.stop();
}
if (state.ownsWorkDir) {
    await rm(state.workDir, { recursive: true, force: true });
}
finish();
