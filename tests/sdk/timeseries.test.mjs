// Time series read through the official npm SDK (@espressif/rainmaker-base-sdk 2.1.1), unchanged:
// a simulated node is claimed and mapped, then speaks with its own certificate through
// mosquitto_pub (tsdata and simple_tsdata, as stock firmware publishes them), and the SDK reads
// the series back: node.getCustomParamTSData (GET /v1/user/nodes/tsdata: raw pages through
// fetchNext, which sends start_id; avg by day in a time zone) and
// node.getCustomParamSimpleTSData (GET /v1/user/nodes/simple_tsdata, which sends data_type).
//
// Environment (normally set by run.sh): RM_BASE_URL, RM_MAILBOX, RM_MQTT_PORT, RM_CA_FILE, RM_SIM,
// optionally RM_WORK_DIR. Prints one line per check and ends with `N passed, M failed`.

import { execFile } from "node:child_process";
import { rm } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";

import { ESPRMBase } from "@espressif/rainmaker-base-sdk";

import {
    check, checkEqual, configureSdkStep, finish, need, newAccount, pollUntil, requireEnv, signUpAndMapNode,
    simulatorPrereqsStep, state, step,
} from "./support.mjs";

const {
    RM_BASE_URL: baseUrl, RM_MAILBOX: mailboxDir, RM_MQTT_PORT: mqttPort, RM_CA_FILE: caFile, RM_SIM: simBin,
} = requireEnv("timeseries.test.mjs", ["RM_BASE_URL", "RM_MAILBOX", "RM_MQTT_PORT", "RM_CA_FILE", "RM_SIM"]);

const kHour = 3600;
const kDay = 24 * kHour;
// Three days of Asia/Kolkata (UTC+05:30, no daylight saving) from its midnight five days ago:
// within every retention, whatever the day the test runs.
const kKolkata = 5.5 * kHour;
const kStart = Math.floor((Math.floor(Date.now() / 1000) + kKolkata) / kDay) * kDay - kKolkata - 5 * kDay;
const kEnd = kStart + 3 * kDay;

// One QoS 1 publish as the node (its certificate, its client id) on node/<id>/<suffix>.
async function publishAsNode(suffix, payload) {
    const args = [
        "-h", "127.0.0.1", "-p", String(mqttPort), "-i", state.nodeId, "--cafile", caFile,
        "--cert", path.join(state.nodeDir, "node.crt"), "--key", path.join(state.nodeDir, "node.key"),
        "-q", "1", "-t", `node/${state.nodeId}/${suffix}`, "-m", JSON.stringify(payload),
    ];
    await promisify(execFile)("mosquitto_pub", args, { timeout: 15_000 });
}

const { email, password } = newAccount("sdk-ts");

console.log(`# SDK ${ESPRMBase.currentVersion()} against ${baseUrl}, time series of a simulated node`);

await simulatorPrereqsStep({ simBin, caFile, mqttPort, prefix: "timeseries-test-" });

await configureSdkStep(baseUrl);

await step("sign up, confirm, log in; claim, run and map a node; stop it so the test speaks as it", async () => {
    need("auth", "prereqs");
    await signUpAndMapNode({
        email, password, mailboxDir, simBin, baseUrl, mqttPort, caFile,
    });
    const ended = await state.sim.stop();
    check(ended.code === 0, `the simulator ended with ${JSON.stringify(ended)}`);
    state.ready = true;
});

await step("the node publishes 72 hourly Light.Temperature records (tsdata) and a simple_tsdata Brightness", async () => {
    need("ready");
    const records = [];
    for (let i = 0; i < 72; ++i) {
        records.push({ t: kStart + i * kHour, v: 20 + Math.floor(i / 24) + 0.5 });  // 20.5, 21.5, 22.5 by day
    }
    await publishAsNode("tsdata", {
        ts_data_version: "2021-09-13",
        ts_data: [{ name: "Light.Temperature", dt: "float", records }],
    });
    await publishAsNode("simple_tsdata", { name: "Light.Brightness", dt: "int", t: kStart + 60, v: 42, d: 30 });
    const page = await pollUntil(async () => {
        const nodes = await state.user.getUserNodes();
        const node = nodes.nodes.find((n) => n.id === state.nodeId);
        const answer = await node.getCustomParamTSData({
            paramName: "Light.Temperature", dataType: "float", startTime: kStart, endTime: kEnd,
        });
        state.node = node;
        return answer.tsData.length > 0 ? answer : undefined;
    }, "no time series data arrived");
    state.firstPage = page;
});

await step("node.getCustomParamTSData raw, 50 records a page: fetchNext (start_id) reads the rest", async () => {
    need("firstPage");
    let page = await state.node.getCustomParamTSData({
        paramName: "Light.Temperature", dataType: "float", startTime: kStart, endTime: kEnd, resultCount: 50,
    });
    const seen = [];
    for (let pages = 0; pages < 5; ++pages) {
        seen.push(...page.tsData);
        if (!page.hasNext) {
            break;
        }
        page = await page.fetchNext();
    }
    checkEqual(seen.length, 72, "records over all pages");
    checkEqual(seen[0], { timestamp: kStart, value: 20.5 }, "first record");
    checkEqual(seen[71], { timestamp: kStart + 71 * kHour, value: 22.5 }, "last record");
});

await step("node.getCustomParamTSData avg by day in Asia/Kolkata: one value per local day", async () => {
    need("firstPage");
    const answer = await state.node.getCustomParamTSData({
        paramName: "Light.Temperature", dataType: "float", startTime: kStart, endTime: kEnd,
        aggregate: "avg", aggregationInterval: "day", timezone: "Asia/Kolkata",
    });
    checkEqual(answer.tsData, [
        { timestamp: kStart, value: 20.5 },
        { timestamp: kStart + 24 * kHour, value: 21.5 },
        { timestamp: kStart + 48 * kHour, value: 22.5 },
    ], "daily averages");
    checkEqual(answer.hasNext, false, "hasNext");
});

await step("node.getCustomParamSimpleTSData (data_type=int) reads the simple series", async () => {
    need("firstPage");
    const answer = await pollUntil(async () => {
        const got = await state.node.getCustomParamSimpleTSData({
            paramName: "Light.Brightness", dataType: "int", startTime: kStart, endTime: kEnd,
        });
        return got.tsData.length > 0 ? got : undefined;
    }, "no simple time series data arrived");
    checkEqual(answer.tsData, [{ timestamp: kStart + 60, value: 42 }], "simple series");
});

if (state.sim !== undefined) {
    await state.sim.stop();
}
if (state.workDir !== undefined) {
    await rm(state.workDir, { recursive: true, force: true });
}
finish();
