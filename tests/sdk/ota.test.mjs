// A user approves an OTA update through the official npm SDK (@espressif/rainmaker-base-sdk
// 2.1.1), unchanged: an admin (made with `rainmaker-server admin create-user`) uploads an ESP app
// image (#29) and makes a user-approval job (#35 ?user_approval=true) for the user's simulated
// node (stock firmware's download: rainmaker-sim --ota download); the SDK's
// node.checkOTAUpdate() (GET /v1/user/nodes/ota_update) finds it, node.pushOTAUpdate(jobId)
// (POST) approves it, the node downloads the image over HTTPS and reboots into it, and
// node.getOTAUpdateStatus(jobId) (GET /v1/user/nodes/ota_status) follows it to success.
//
// Environment (normally set by run.sh): RM_BASE_URL, RM_MAILBOX, RM_MQTT_PORT, RM_CA_FILE, RM_SIM,
// RM_SERVER, RM_DATA_DIR, optionally RM_WORK_DIR. Prints one line per check and ends with
// `N passed, M failed`.

import { execFile } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { promisify } from "node:util";

import { ESPRMBase } from "@espressif/rainmaker-base-sdk";

import {
    check, checkEqual, configureSdkStep, finish, need, newAccount, pollUntil, requireEnv, signUpAndMapNode,
    simulatorPrereqsStep, state, step,
} from "./support.mjs";

const {
    RM_BASE_URL: baseUrl, RM_MAILBOX: mailboxDir, RM_MQTT_PORT: mqttPort, RM_CA_FILE: caFile, RM_SIM: simBin,
    RM_SERVER: serverBin, RM_DATA_DIR: dataDir,
} = requireEnv("ota.test.mjs", [
    "RM_BASE_URL", "RM_MAILBOX", "RM_MQTT_PORT", "RM_CA_FILE", "RM_SIM", "RM_SERVER", "RM_DATA_DIR",
]);

// An ESP app image as ESP-IDF lays it out ("App Image Format"): the 24-byte header, a segment
// starting with esp_app_desc_t (magic 0xABCD5432, version, project name) and one more, zero
// padding to the checksum byte (0xEF xor every segment byte), then the appended SHA-256.
function espAppImage(version, projectName) {
    const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v >>> 0); return b; };
    const text = (s, size) => { const b = Buffer.alloc(size); b.write(s, "latin1"); return b; };
    const header = Buffer.from([0xE9, 2, 2, 0x20, ...u32(0x40081000), 0xEE, 0, 0, 0, 0, 0, 0, 0, 0, 0x8B, 0x01,
        0, 0, 0, 0, 1]);
    const desc = Buffer.concat([u32(0xABCD5432), u32(0), Buffer.alloc(8), text(version, 32), text(projectName, 32),
        text("12:00:00", 16), text("Dec  1 2026", 16), text("v5.1.2", 32), Buffer.alloc(32, 7)]);
    const first = Buffer.concat([desc, Buffer.alloc(256 - desc.length), Buffer.alloc(64, 0x5A)]);
    const second = Buffer.alloc(64, 0x33);
    let checksum = 0xEF;
    for (const byte of [...first, ...second]) {
        checksum ^= byte;
    }
    let image = Buffer.concat([header, u32(0x3F400020), u32(first.length), first, u32(0x3FFB0000), u32(second.length),
        second]);
    image = Buffer.concat([image, Buffer.alloc((15 - (image.length % 16) + 16) % 16), Buffer.from([checksum])]);
    return Buffer.concat([image, createHash("sha256").update(image).digest()]);
}

// A plain REST call as the admin (the SDK is the user's).
async function adminCall(method, target, body) {
    const response = await fetch(`${baseUrl}${target}`, {
        method,
        headers: { "Content-Type": "application/json", Authorization: state.adminToken ?? "" },
        body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await response.json();
    check(response.ok, `${method} ${target}: ${response.status} ${JSON.stringify(json)}`);
    return json;
}

const { email, password } = newAccount("sdk-ota");
const adminEmail = `ota-admin-${randomUUID().slice(0, 8)}@example.com`;
const adminPassword = "Admin-Passw0rd!";

console.log(`# SDK ${ESPRMBase.currentVersion()} against ${baseUrl}, a user-approval OTA of a simulated node`);

await simulatorPrereqsStep({ simBin, caFile, mqttPort, prefix: "ota-test-" });

await configureSdkStep(baseUrl);

await step("sign up, confirm, log in; claim, run (--ota download) and map a node", async () => {
    need("auth", "prereqs");
    await signUpAndMapNode({
        email, password, mailboxDir, simBin, baseUrl, mqttPort, caFile,
        extraArgs: ["--ota", "download", "--otafetch-delay-ms", "300", "--ota-duration-ms", "300"],
    });
    state.ready = true;
});

await step("an admin uploads an image and makes a user-approval job for the node", async () => {
    need("ready");
    await promisify(execFile)(serverBin, [
        "--data-dir", dataDir, "--password-cost", "min", "admin", "create-user", "--user-name", adminEmail,
        "--password", adminPassword, "--admin",
    ], { timeout: 15_000 });
    const login = await adminCall("POST", "/v1/login2", { user_name: adminEmail, password: adminPassword });
    state.adminToken = login.accesstoken;
    const image = await adminCall("POST", "/v1/admin/otaimage", {
        image_name: "sdk light 2.0", base64_fwimage: espAppImage("2.0.0", "led_light").toString("base64"),
    });
    const job = await adminCall("POST", "/v1/admin/otajob?user_approval=true", {
        ota_job_name: "sdk approval", ota_image_id: image.ota_image_id, nodes: [state.nodeId],
    });
    state.jobId = job.ota_job_id;
    check(typeof state.jobId === "string" && state.jobId.length > 0, `job: ${JSON.stringify(job)}`);
});

await step("node.checkOTAUpdate(): the job waits for the user's approval", async () => {
    need("jobId");
    const page = await state.user.getUserNodes();
    state.node = page.nodes.find((n) => n.id === state.nodeId);
    check(state.node !== undefined, "the node is not listed");
    const update = await state.node.checkOTAUpdate();
    checkEqual(update.otaAvailable, true, "otaAvailable");
    checkEqual(update.otaJobId, state.jobId, "otaJobId");
    checkEqual(update.fwVersion, "2.0.0", "fwVersion");
    check(typeof update.fileSize === "number" && update.fileSize > 0, `fileSize ${update.fileSize}`);
    // Nothing is pushed before the approval.
    checkEqual(state.sim.events("otaurl").length, 0, "otaurl events before the approval");
});

await step("node.pushOTAUpdate(jobId) approves it; node.getOTAUpdateStatus follows the download to success", async () => {
    need("node");
    const from = state.sim.mark();
    const answer = await state.node.pushOTAUpdate(state.jobId);
    checkEqual(answer.status, "success", "pushOTAUpdate status");
    await state.sim.waitFor("otaurl", from);
    const status = await pollUntil(async () => {
        const s = await state.node.getOTAUpdateStatus(state.jobId);
        return s?.status === "success" ? s : undefined;
    }, "the OTA did not reach success");
    checkEqual(status.status, "success", "getOTAUpdateStatus status");
    check(state.sim.events("otastatus", from).some((e) => e.payload.includes("Downloaded 100%")),
        "the node downloaded the image over HTTPS");
});

await step("stop the simulator", async () => {
    need("ready");
    const ended = await state.sim.stop();
    check(ended.code === 0, `the simulator ended with ${JSON.stringify(ended)}`);
});

finish();
