// Shared support for the SDK tests (*.test.mjs; this file is not one, so run.sh does not run it):
// the environment run.sh sets, a small sequential step harness, the SDK set-up with an in-memory
// storage adapter, the sign-up code from the server's file mailbox, account helpers, switching
// between several logged-in users (makeActors) and their sign-up and logout steps, the device
// simulator (rainmaker-sim) as a child process, the device steps: claim, run with a user-mapping
// secret, map, read the node model, and the helpers of the tests where several users share a node.

import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { constants as fsConstants } from "node:fs";
import { access, mkdtemp, readdir, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { isDeepStrictEqual } from "node:util";

import { ESPRMBase, ESPRMGroup, ESPRMUser } from "@espressif/rainmaker-base-sdk";

export const kStepTimeoutMs = 20_000;
const kMailboxWaitMs = 10_000;
const kPollWaitMs = 10_000;  // default for pollUntil: server-side state that follows an action
const kPollIntervalMs = 100;

// ---------------------------------------------------------------------------------------------
// The environment: returns the values of `names` (RM_BASE_URL without trailing slashes), or
// exits with status 2 naming them all when one is unset or empty.

export function requireEnv(testName, names) {
    const values = {};
    for (const name of names) {
        values[name] = process.env[name] ?? "";
    }
    if ("RM_BASE_URL" in values) {
        values.RM_BASE_URL = values.RM_BASE_URL.replace(/\/+$/, "");
    }
    if (names.some((name) => !values[name])) {
        const list = names.length > 1 ? `${names.slice(0, -1).join(", ")} and ${names.at(-1)}` : names[0];
        console.error(`${testName}: set ${list} (run.sh does this)`);
        process.exit(2);
    }
    return values;
}

// ---------------------------------------------------------------------------------------------
// A small sequential harness: every step is one check; a step whose inputs are missing because
// an earlier step failed is reported as skipped and counted as failed. Steps pass values on
// through `state`.

const results = { passed: 0, failed: 0, skipped: 0 };
export const state = {};

class SkipStep extends Error {}

export function need(...keys) {
    const missing = keys.filter((key) => state[key] === undefined);
    if (missing.length > 0) {
        throw new SkipStep(`needs ${missing.join(", ")} from an earlier step`);
    }
}

export function describe(error) {
    if (error instanceof Error) {
        const code = error.code ? ` [${error.code}]` : "";
        return `${error.name}${code}: ${error.message}`;
    }
    // API failures from the SDK are plain objects {status, statusCode, errorCode, description}.
    try {
        return JSON.stringify(error);
    } catch {
        return String(error);
    }
}

export function withTimeout(promise, ms, what) {
    let timer;
    const timeout = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export async function step(name, fn) {
    try {
        await withTimeout(Promise.resolve().then(fn), kStepTimeoutMs, name);
        results.passed += 1;
        console.log(`ok   - ${name}`);
    } catch (error) {
        results.failed += 1;
        if (error instanceof SkipStep) {
            results.skipped += 1;
            console.log(`skip - ${name} (${error.message})`);
        } else {
            console.log(`FAIL - ${name}\n       ${describe(error)}`);
        }
    }
}

export function note(text) {
    console.log(`note - ${text}`);
}

// Prints `N passed, M failed` and exits (1 on any failure). Exits explicitly: a request abandoned
// by a step timeout must not keep the process alive.
export function finish() {
    if (results.skipped > 0) {
        console.log(`# ${results.skipped} of the failed steps were skipped because an earlier step failed`);
    }
    console.log(`${results.passed} passed, ${results.failed} failed`);
    process.exit(results.failed > 0 ? 1 : 0);
}

export function check(condition, message) {
    if (!condition) {
        throw new Error(message);
    }
}

export function checkEqual(actual, expected, what) {
    if (!isDeepStrictEqual(actual, expected)) {
        throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
    }
}

// Runs `fn`, which must reject; returns the rejection.
export async function rejectionOf(fn, what) {
    let result;
    try {
        result = await fn();
    } catch (error) {
        return error;
    }
    const shown = JSON.stringify(result) ?? "undefined";
    throw new Error(`${what} succeeded but should have failed; it returned ${shown.slice(0, 200)}`);
}

// An API failure as the SDK reports it: the server's {status, error_code, description} body,
// parsed by the SDK into {status, statusCode, errorCode, description}.
export function checkApiFailure(error, allowedStatuses, what) {
    check(
        error !== null && typeof error === "object" && !(error instanceof Error),
        `${what}: expected an API failure from the server, got ${describe(error)}`,
    );
    check(
        allowedStatuses.includes(error.statusCode),
        `${what}: HTTP ${error.statusCode}, expected ${allowedStatuses.join(" or ")}; ${describe(error)}`,
    );
    checkEqual(error.status, "failure", `${what}: body "status"`);
    check(Number.isInteger(error.errorCode), `${what}: body "error_code" must be an integer; ${describe(error)}`);
    check(typeof error.description === "string" && error.description.length > 0,
        `${what}: body "description" must be a non-empty string`);
}

// An SDK call that must fail with an API failure carrying `errorCode`.
export async function expectFailure(fn, errorCode, what, statuses = [400]) {
    const error = await rejectionOf(fn, what);
    checkApiFailure(error, statuses, what);
    checkEqual(error.errorCode, errorCode, `${what}: error_code (${error.description})`);
    return error;
}

// Calls `probe` until it returns a value other than undefined, or fails with the last reason
// (`probe` may throw; the last error becomes the reason).
export async function pollUntil(probe, what, timeoutMs = kPollWaitMs) {
    const deadline = Date.now() + timeoutMs;
    let lastReason = "not tried";
    for (;;) {
        try {
            const value = await probe();
            if (value !== undefined) {
                return value;
            }
            lastReason = "condition not met";
        } catch (error) {
            lastReason = describe(error);
        }
        if (Date.now() >= deadline) {
            throw new Error(`${what} within ${timeoutMs} ms: ${lastReason}`);
        }
        await sleep(kPollIntervalMs);
    }
}

// ---------------------------------------------------------------------------------------------
// SDK set-up: Node has no window.localStorage, so the SDK needs an async storage adapter.

export const storage = new Map();
const storageAdapter = {
    async setItem(name, value) {
        storage.set(name, value);
    },
    async getItem(name) {
        return storage.has(name) ? storage.get(name) : null;
    },
    async removeItem(name) {
        storage.delete(name);
    },
    async clear() {
        storage.clear();
    },
};

// A module of the SDK's own dist directory (`relative` to its index.js): the very instance
// index.js uses, so it shares the configured base URL and the stored tokens.
export async function importSdkModule(relative) {
    return import(new URL(relative, import.meta.resolve("@espressif/rainmaker-base-sdk")));
}

// The step that configures the SDK against `baseUrl`; sets state.auth.
export async function configureSdkStep(baseUrl) {
    await step("configure the SDK (baseUrl, version v1, in-memory storage adapter)", async () => {
        ESPRMBase.configure({ baseUrl, version: "v1", customStorageAdapter: storageAdapter });
        state.auth = ESPRMBase.getAuthInstance();
    });
}

// ---------------------------------------------------------------------------------------------
// The mailbox: one file per message, `<unix-ms>-<seq>-<recipient>.txt`, holding
// `To: ...\nChannel: email\nSubject: ...\n\n<text with a 6-digit code>`.

function mailboxName(recipient) {
    return recipient.replace(/[^A-Za-z0-9@.+_-]/g, "_").toLowerCase();
}

async function newestMessageFor(mailboxDir, recipient) {
    let names;
    try {
        names = await readdir(mailboxDir);
    } catch (error) {
        if (error.code === "ENOENT") {
            return null;  // the server creates the directory with the first message
        }
        throw error;
    }
    const wanted = mailboxName(recipient);
    let newest = null;
    for (const name of names) {
        const match = /^(\d+)-(\d+)-(.+)\.txt$/.exec(name);
        if (!match || match[3].toLowerCase() !== wanted) {
            continue;
        }
        const ms = BigInt(match[1]);
        const seq = BigInt(match[2]);
        if (newest === null || ms > newest.ms || (ms === newest.ms && seq > newest.seq)) {
            newest = { name, ms, seq };
        }
    }
    return newest;
}

// The 6-digit code of the newest message to `recipient`, waiting for it to arrive.
export async function waitForCode(mailboxDir, recipient) {
    return pollUntil(async () => {
        const message = await newestMessageFor(mailboxDir, recipient);
        if (message === null) {
            throw new Error(`no file for ${recipient} in ${mailboxDir} yet`);
        }
        const content = await readFile(path.join(mailboxDir, message.name), "utf8");
        const separator = /\r?\n\r?\n/.exec(content);
        if (separator === null) {
            throw new Error(`${message.name} has no blank line between headers and text`);
        }
        const headers = content.slice(0, separator.index);
        const text = content.slice(separator.index + separator[0].length);
        const to = /^To:\s*(.*)$/im.exec(headers);
        if (to === null || to[1].trim().toLowerCase() !== recipient.toLowerCase()) {
            throw new Error(`${message.name}: "To:" header is ${JSON.stringify(to?.[1])}`);
        }
        const code = /\b(\d{6})\b/.exec(text);
        if (code === null) {
            throw new Error(`${message.name}: no 6-digit code in the text`);
        }
        return code[1];
    }, `no usable code for ${recipient}`, kMailboxWaitMs);
}

// ---------------------------------------------------------------------------------------------
// Accounts: a fresh e-mail address and a password the server accepts (8..256 chars,
// upper + lower + digit, no spaces), and the SDK calls of sign-up, confirmation and login.

export function newAccount(prefix) {
    const suffix = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
    return { suffix, email: `${prefix}-${suffix}@example.com`, password: `Sdk${suffix}Pw9` };
}

// auth.sendSignUpCode(email, password) -> POST /v1/user2; the answer must be a success.
export async function signUp(email, password, what = "sign-up status") {
    checkEqual((await state.auth.sendSignUpCode(email, password))?.status, "success", what);
}

// auth.confirmSignUp(email, code) -> POST /v1/user2; the answer must be a success.
export async function confirmSignUp(email, code, what = "confirmation status") {
    checkEqual((await state.auth.confirmSignUp(email, code))?.status, "success", what);
}

// auth.login(email, password) -> POST /v1/login2; returns the ESPRMUser.
export async function logIn(email, password) {
    const user = await state.auth.login(email, password);
    check(user instanceof ESPRMUser, "login did not return an ESPRMUser");
    return user;
}

// ---------------------------------------------------------------------------------------------
// Several users in one process: the SDK keeps the tokens of one user in its storage (every call
// takes them from there through the static ESPRMUser.getAccessToken), so a test with several
// users saves each one's storage after login and puts it back before acting as that user.

export function saveSession() {
    return { entries: new Map(storage), userId: ESPRMUser.userId };
}

export function restoreSession(session) {
    storage.clear();
    for (const [name, value] of session.entries) {
        storage.set(name, value);
    }
    ESPRMUser.userId = session.userId;
}

// The users of such a test: `accounts` maps each name to an account (newAccount). Returns
// - users: each name's entry, the account plus `user` (the ESPRMUser from login) and `session`
//   (the saved SDK storage) once logged in;
// - as(who, fn): runs fn(user) with `who`'s tokens in the SDK storage;
// - loggedIn(who, user): records `who`'s login, made with the SDK storage just now.
export function makeActors(accounts) {
    const users = {};
    for (const [who, account] of Object.entries(accounts)) {
        users[who] = { ...account };
    }
    let actingAs = null;

    // Runs fn(user) with `who`'s tokens in the SDK storage; keeps the storage afterwards (the SDK may
    // have refreshed the access token).
    async function as(who, fn) {
        const entry = users[who];
        check(entry.session !== undefined, `${who} is not logged in`);
        if (actingAs !== who) {
            restoreSession(entry.session);
            actingAs = who;
        }
        try {
            return await fn(entry.user);
        } finally {
            if (actingAs === who) {
                entry.session = saveSession();
            }
        }
    }

    // `who` has just logged in as `user`: the SDK storage holds `who`'s tokens; save it.
    function loggedIn(who, user) {
        users[who].user = user;
        users[who].session = saveSession();
        actingAs = who;
    }

    return { users, as, loggedIn };
}

// One step for each of `actors`' users, in order: sign up, confirm with the code mailed to
// `mailboxDir`, log in and save the SDK session; sets state[who].
export async function signUpActorsSteps({ users, loggedIn }, mailboxDir) {
    for (const who of Object.keys(users)) {
        await step(`${who}: sign up, confirm with the mailed code, log in, save the SDK session`, async () => {
            need("auth");
            const { email, password } = users[who];
            await signUp(email, password);
            await confirmSignUp(email, await waitForCode(mailboxDir, email));
            loggedIn(who, await logIn(email, password));
            state[who] = true;
        });
    }
}

// ---------------------------------------------------------------------------------------------
// The device simulator: `rainmaker-sim claim` (one-shot) and `rainmaker-sim run` (long-running,
// one event per stdout line: `connected`, `ready`, `params/remote {json}`, `applied {json}`, ...;
// commands on stdin).

export const kSimEventWaitMs = 15_000;  // connect + TLS + boot of the simulator (ASan builds are slow)
const kSimStopWaitMs = 5_000;

// Runs `simBin args` to completion; resolves {code, signal, stdout, stderr}.
export async function runSimToCompletion(simBin, args, timeoutMs) {
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

// A running `rainmaker-sim run`; every instance is killed when the process exits or is
// interrupted.
const liveSimulators = new Set();
let simulatorExitHooks = false;

function installSimulatorExitHooks() {
    if (simulatorExitHooks) {
        return;
    }
    simulatorExitHooks = true;
    process.on("exit", () => {
        for (const sim of liveSimulators) {
            sim.killNow();
        }
    });
    for (const [signal, status] of [["SIGINT", 130], ["SIGTERM", 143]]) {
        process.on(signal, () => {
            for (const sim of liveSimulators) {
                sim.killNow();
            }
            process.exit(status);
        });
    }
}

export class Simulator {
    constructor(simBin, args) {
        installSimulatorExitHooks();
        this.lines = [];
        this.waiters = new Set();
        this.stderr = "";
        this.exit = null;
        this.child = spawn(simBin, args, { stdio: ["pipe", "pipe", "pipe"] });
        liveSimulators.add(this);
        this.exited = new Promise((resolve) => {
            this.child.on("close", (code, signal) => {
                this.exit = { code, signal };
                liveSimulators.delete(this);
                this.#wake();
                resolve(this.exit);
            });
        });
        this.child.on("error", (error) => {
            this.exit = { error };
            liveSimulators.delete(this);
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

// ---------------------------------------------------------------------------------------------
// Device steps shared by the tests with a simulated node.

// The step that checks the simulator binary, the broker CA and the port, and makes a scratch
// directory `<RM_WORK_DIR or tmp>/<prefix>XXXXXX`; sets state.workDir and state.prereqs.
export async function simulatorPrereqsStep({ simBin, caFile, mqttPort, prefix }) {
    await step("the simulator binary and the broker CA are there", async () => {
        await access(simBin, fsConstants.X_OK).catch(() => {
            throw new Error(`RM_SIM ${simBin} is not executable (build the rainmaker-sim target)`);
        });
        await access(caFile, fsConstants.R_OK).catch(() => {
            throw new Error(`RM_CA_FILE ${caFile} is not readable`);
        });
        check(/^\d+$/.test(mqttPort) && Number(mqttPort) > 0, `RM_MQTT_PORT ${mqttPort} is not a port`);
        state.workDir = await mkdtemp(path.join(process.env.RM_WORK_DIR || os.tmpdir(), prefix));
        state.prereqs = true;
    });
}

// `rainmaker-sim claim` into `nodeDir` with a user's access token (POST /claim/initiate,
// /claim/verify); returns the node id it printed.
export async function claimNode({ simBin, baseUrl, token, nodeDir }) {
    const claimed = await runSimToCompletion(simBin, ["claim", "--api", baseUrl, "--token", token, "--out", nodeDir],
        kStepTimeoutMs - 2_000);
    check(claimed.code === 0,
        `rainmaker-sim claim exited with ${JSON.stringify({ code: claimed.code, signal: claimed.signal })}: ${claimed.stderr.trim()}`);
    const nodeId = claimed.stdout.trim();
    check(/^[A-Za-z0-9_-]{1,64}$/.test(nodeId), `claim printed ${JSON.stringify(claimed.stdout)}, not a node id`);
    return nodeId;
}

// `rainmaker-sim run` of the node in `nodeDir` on the server's broker with a user-mapping secret
// (and `extraArgs`); sets state.sim and waits until the node is ready.
export async function runMappingNode({ simBin, nodeDir, mqttPort, caFile, userId, secret, extraArgs = [] }) {
    state.sim = new Simulator(simBin, [
        "run", "--node-dir", nodeDir, "--mqtt-host", "127.0.0.1", "--mqtt-port", mqttPort, "--ca", caFile,
        "--map-user", userId, "--map-secret", secret, "--stdin", ...extraArgs,
    ]);
    const connected = await state.sim.waitFor("connected");
    // The mapping message is PUBACKed before the node goes on with its boot (init params).
    await state.sim.waitFor("mapping-acked", connected.index);
    await state.sim.waitFor("ready", connected.index);
}

// Signs up, confirms and logs in `email`, claims a node with her SDK access token, runs it
// (with `extraArgs`) and maps it to her by a fresh secret; sets state.user, state.nodeDir,
// state.nodeId and state.sim.
export async function signUpAndMapNode({ email, password, mailboxDir, simBin, baseUrl, mqttPort, caFile, extraArgs = [] }) {
    const { NodeMappingHelper } = await importSdkModule("./services/ESPRMHelpers/NodeMappingHelper.js");
    const secret = randomUUID();
    await signUp(email, password);
    await confirmSignUp(email, await waitForCode(mailboxDir, email));
    state.user = await logIn(email, password);
    const info = await state.user.getUserInfo();
    state.nodeDir = path.join(state.workDir, "node");
    state.nodeId = await claimNode({ simBin, baseUrl, token: await ESPRMUser.getAccessToken(), nodeDir: state.nodeDir });
    await runMappingNode({ simBin, nodeDir: state.nodeDir, mqttPort, caFile, userId: info.userId, secret, extraArgs });
    await mapNodeBySecret(NodeMappingHelper, state.nodeId, secret);
}

// Secret-key mapping through the SDK's NodeMappingHelper (PUT /v1/user/nodes/mapping), then
// GET ?request_id= until confirmed; returns the request id.
export async function mapNodeBySecret(mappingHelper, nodeId, secret) {
    const requestId = await mappingHelper.addNodeMapping(nodeId, secret);
    check(typeof requestId === "string" && requestId.length > 0, `request_id: ${JSON.stringify(requestId)}`);
    await pollUntil(async () => {
        const status = await mappingHelper.getNodeMappingStatus(requestId);
        check(status !== "timedout", "the mapping request timed out");
        return status === "confirmed" ? true : undefined;
    }, "the mapping request was not confirmed");
    return requestId;
}

// The next params/remote state.sim receives after `from` must be exactly `delta`, and the
// simulator must apply it (applied <delta>); returns the index of the applied event.
export async function expectRemote(from, delta, what) {
    const remote = await state.sim.waitForJson("params/remote", from);
    checkEqual(remote.value, delta, `${what}: params/remote received by the device`);
    const applied = await state.sim.waitForJson("applied", remote.index);
    checkEqual(applied.value, delta, `${what}: params the device applied and reported`);
    return applied.index;
}

// The SDK's node model: a device of the config, a param of it, and the param's reported value.
export function findDevice(node, name) {
    return node.nodeConfig?.devices?.find((device) => device.name === name);
}

export function findParam(node, deviceName, paramName) {
    return findDevice(node, deviceName)?.params?.find((param) => param.name === paramName);
}

export function paramValue(node, deviceName, paramName) {
    return findParam(node, deviceName, paramName)?.value;
}

// ---------------------------------------------------------------------------------------------
// Tests where several users (makeActors) share one node of an owner's: the node set-up, the node
// and group models as each user sees them, the sets that must or must not reach the device, and
// the end. `as` is makeActors' as(who, fn), `nodeId` the shared node.

// The steps that give `owner` a running node: claim it with the owner's SDK access token (sets
// state.ownerUserId, state.nodeDir and state.claimedNodeId), then run it with the user-mapping
// `secret` until ready (sets state.nodeId; the mapping itself is the test's next step).
export async function claimAndRunNodeSteps({ as, owner, simBin, baseUrl, mqttPort, caFile, secret }) {
    await step(`${owner}: claim a node with her SDK access token (rainmaker-sim claim)`, async () => {
        need(owner, "prereqs");
        const { userId, token } = await as(owner, async (user) => ({
            userId: (await user.getUserInfo()).userId,
            token: await ESPRMUser.getAccessToken(),
        }));
        check(typeof userId === "string" && userId.length > 0, `${owner} has no user id`);
        const nodeDir = path.join(state.workDir, "node");
        const nodeId = await claimNode({ simBin, baseUrl, token, nodeDir });
        state.ownerUserId = userId;
        state.nodeDir = nodeDir;
        state.claimedNodeId = nodeId;
    });

    await step(`run the node (rainmaker-sim run --map-user <${owner}> --map-secret <secret>) until ready`, async () => {
        need("claimedNodeId");
        await runMappingNode({
            simBin, nodeDir: state.nodeDir, mqttPort, caFile, userId: state.ownerUserId, secret,
        });
        state.nodeId = state.claimedNodeId;
    });
}

// The node as `who` sees it in user.getUserNodes(), or undefined.
export async function listedNode(as, who, nodeId) {
    return as(who, async (user) => {
        const page = await user.getUserNodes();
        check(Array.isArray(page.nodes), `getUserNodes of ${who}: no nodes array`);
        return page.nodes.find((n) => n.id === nodeId);
    });
}

// `who`'s node, listed and connected with reported params (a fresh object: params keep only a
// WeakRef to their node, so the caller holds on to it while setting).
export async function waitForListedNode(as, who, nodeId) {
    return pollUntil(async () => {
        const found = await listedNode(as, who, nodeId);
        check(found !== undefined, `node ${nodeId} not listed for ${who}`);
        check(found.connectivityStatus?.isConnected === true, `connectivity ${JSON.stringify(found.connectivityStatus)}`);
        check(paramValue(found, "Light", "Power") !== undefined, "no reported value for Light.Power yet");
        return found;
    }, `${who} did not get the node listed and connected`);
}

// GET /v1/user/nodes/sharing?node_id= through the SDK's authorized request (no SDK method calls
// it; 2.1.1 has sharing info for groups only): ESPRMAPIManager, loaded from the SDK's own dist
// directory, so it shares the configured base URL and the stored tokens.
export async function nodeSharingInfo(as, who, nodeId) {
    const { ESPRMAPIManager } = await importSdkModule("./services/ESPRMAPIManager.js");
    return as(who, async () => {
        const response = await ESPRMAPIManager.authorizeRequest({
            url: "user/nodes/sharing", method: "GET", params: { node_id: nodeId },
        });
        check(Array.isArray(response?.node_sharing) && response.node_sharing.length === 1,
            `node_sharing: ${JSON.stringify(response)}`);
        checkEqual(response.node_sharing[0].node_id, nodeId, "node_sharing[0].node_id");
        return response.node_sharing[0];
    });
}

// One entry of a PUT /v1/user/nodes/params answer for a single-node set.
export function checkSetAnswer(response, nodeId, status, what) {
    check(Array.isArray(response) && response.length === 1, `${what}: expected a one-entry array, got ${JSON.stringify(response)}`);
    checkEqual(response[0].node_id, nodeId, `${what}: node_id`);
    checkEqual(response[0].status, status, `${what}: status (${JSON.stringify(response[0])})`);
    return response[0];
}

export function checkGroup(group, expected, what) {
    check(group instanceof ESPRMGroup, `${what}: not an ESPRMGroup`);
    for (const [key, value] of Object.entries(expected)) {
        checkEqual(group[key], value, `${what}: ${key}`);
    }
}

// `who`'s param.setValue(true) on Light.Power of `node` reaches the device (state.sim) as exactly
// that delta; `reader` reads it back.
export async function expectPowerSetReaches(as, { who, node, reader, nodeId }) {
    const from = state.sim.mark();
    const answer = await as(who, () => findParam(node, "Light", "Power").setValue(true));
    checkSetAnswer(answer, nodeId, "success", `${who}'s setValue answer`);
    await expectRemote(from, { Light: { Power: true } }, `${who}'s setValue`);
    await pollUntil(async () => {
        const read = await as(reader, (user) => user.getNodeDetails(nodeId));
        return paramValue(read, "Light", "Power") === true ? true : undefined;
    }, `${reader} does not read Light.Power true`);
}

// `who` has lost the node: a set on `who`'s stale `staleNode` answers a failure (entry or API
// failure, noted) and reaches nothing: `owner`'s next set on `ownerNode` is the next delta the
// device (state.sim) receives.
export async function expectStaleSetIgnored(as, { who, staleNode, owner, ownerNode, nodeId }) {
    const from = state.sim.mark();
    let stale;
    try {
        stale = checkSetAnswer(await as(who, () => findParam(staleNode, "Light", "Power").setValue(false)),
            nodeId, "failure", `${who}'s stale setValue`);
        stale = `failure entry, error_code ${stale.error_code}`;
    } catch (error) {
        if (error instanceof Error) {
            throw error;
        }
        checkApiFailure(error, [400, 403, 404], `${who}'s stale setValue`);
        stale = `API failure, error_code ${error.errorCode}`;
    }
    note(`${who}'s set after the removal: ${stale}`);
    // Messages to one node arrive in order: if the next delta is the owner's, the stale set was
    // not published.
    const answer = await as(owner, () => findParam(ownerNode, "Light", "Brightness").setValue(60));
    checkSetAnswer(answer, nodeId, "success", `${owner}'s setValue`);
    await expectRemote(from, { Light: { Brightness: 60 } }, `${owner}'s set after ${who}'s`);
    checkEqual(state.sim.events("params/remote", from).length, 1, `params/remote events since ${who}'s set`);
}

// The last step: stop the node (it must exit cleanly) and log every logged-in user of `actors`
// out (user.logout()).
export async function stopNodeAndLogOutStep({ users, as }) {
    await step("stop the node and log everyone out (user.logout())", async () => {
        need("sim");
        const ended = await state.sim.stop();
        check(ended.code === 0, `the simulator ended with ${JSON.stringify(ended)}`);
        for (const who of Object.keys(users)) {
            if (users[who].session !== undefined) {
                checkEqual((await as(who, (user) => user.logout()))?.status, "success", `${who}'s logout status`);
            }
        }
    });
}
