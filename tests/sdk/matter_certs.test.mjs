// Checked by an independent Matter implementation (#9): matter.js (@matter/protocol, pinned in
// package.json) decodes every RCAC and NOC the server issues for a home created with the CLI's
// `group add` body, converts each to Matter TLV and back, and validates the chain, the node id,
// the fabric id and the CATs with its own certificate code (Matter core spec §6.5).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { StandardCrypto } from "@matter/general";
import { Noc, Rcac } from "@matter/protocol";

import { check, checkEqual, finish, requireEnv, step, waitForCode } from "./support.mjs";

const { RM_BASE_URL: baseUrl, RM_MAILBOX: mailboxDir } = requireEnv("matter_certs.test.mjs", [
    "RM_BASE_URL",
    "RM_MAILBOX",
]);
const crypto = new StandardCrypto(globalThis.crypto);
const work = mkdtempSync(path.join(os.tmpdir(), "rm-matter-"));

async function call(method, target, body, token) {
    const response = await fetch(`${baseUrl}${target}`, {
        method,
        headers: { "content-type": "application/json", ...(token ? { Authorization: token } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await response.json();
    if (response.status !== 200 && response.status !== 201) {
        throw new Error(`${method} ${target}: ${response.status} ${JSON.stringify(json)}`);
    }
    return json;
}

// A fresh user, signed up, confirmed and logged in: the access token.
async function user(prefix) {
    const email = `${prefix}-${Date.now().toString(36)}@example.com`;
    const password = "Matter1Passw0rd";
    await call("POST", "/v1/user2", { user_name: email, password });
    const code = await waitForCode(mailboxDir, email);
    await call("POST", "/v1/user2", { user_name: email, verification_code: code });
    return (await call("POST", "/v1/login2", { user_name: email, password })).accesstoken;
}

// A P-256 key and CSR made by the openssl command line (the phone's or device's part).
function csr(name) {
    const out = path.join(work, `${name}.csr`);
    execFileSync("openssl", [
        "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-subj", `/CN=${name}`, "-keyout", path.join(work, `${name}.key`), "-out", out,
    ], { stdio: "ignore" });
    return readFileSync(out, "utf8");
}

function der(pem) {
    const body = pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
    return new Uint8Array(Buffer.from(body, "base64"));
}

const hex = (value) => BigInt(value).toString(16).toUpperCase().padStart(16, "0");

const state = {};

await step("a home made with the CLI's group add body is a fabric", async () => {
    state.alice = await user("alice");
    const created = await call("POST", "/v1/user/node_group", {
        group_name: "Home", is_matter: true, description: "", mutually_exclusive: false,
        custom_data: {}, type: "home",
    }, state.alice);
    state.groupId = created.group_id;
    state.fabricId = created.fabric_id;
    const group = (await call(
        "GET", `/v1/user/node_group?group_id=${state.groupId}&fabric_details=true`, undefined, state.alice,
    )).groups[0];
    state.details = group.fabric_details;
    checkEqual(group.is_matter, true, "is_matter");
});

await step("matter.js accepts the RCAC (DER, and after TLV and back)", async () => {
    const rcac = Rcac.fromAsn1(der(state.details.root_ca));
    await rcac.verify(crypto);
    checkEqual(hex(rcac.cert.subject.fabricId), state.fabricId, "RCAC fabric id");
    const again = Rcac.fromTlv(rcac.asSignedTlv());
    await again.verify(crypto);  // the signature checks over the DER rebuilt from TLV
    check(again.asSignedTlv().byteLength <= 400, "RCAC TLV over 400 bytes");
    state.rcac = again;
});

async function checkNoc(pem, nodeId, cats) {
    const noc = Noc.fromAsn1(der(pem));
    await noc.verify(crypto, state.rcac);
    const tlv = Noc.fromTlv(noc.asSignedTlv());
    await tlv.verify(crypto, state.rcac);
    check(noc.asSignedTlv().byteLength <= 400, "NOC TLV over 400 bytes");
    checkEqual(hex(tlv.cert.subject.nodeId), nodeId, "NOC node id");
    checkEqual(hex(tlv.cert.subject.fabricId), state.fabricId, "NOC fabric id");
    const got = (tlv.cert.subject.caseAuthenticatedTags ?? [])
        .map((c) => Number(c).toString(16).toUpperCase().padStart(8, "0"));
    checkEqual(JSON.stringify(got.sort()), JSON.stringify([...cats].sort()), "NOC CATs");
}

await step("matter.js accepts a user NOC with the admin CAT and the user's CAT", async () => {
    const answer = await call("PUT", "/v1/user/node_group", {
        operation: "add", csr_type: "user", csr_requests: [{ csr: csr("phone"), group_id: state.groupId }],
    }, state.alice);
    const cert = answer.certificates[0];
    await checkNoc(cert.user_noc, state.details.matter_user_id,
        [state.details.group_cat_id_admin, state.details.user_cat_id]);
});

await step("matter.js accepts a device NOC (no CATs)", async () => {
    const answer = await call("PUT", "/v1/user/node_group", {
        operation: "add", csr_type: "node", csr_requests: [{ csr: csr("bulb"), group_id: state.groupId }],
    }, state.alice);
    const cert = answer.certificates[0];
    await checkNoc(cert.node_noc, cert.matter_node_id, []);
});

await step("matter.js refuses a NOC under another fabric's root", async () => {
    const other = await call("POST", "/v1/user/node_group", { group_name: "Other", is_matter: true }, state.alice);
    const answer = await call("PUT", "/v1/user/node_group", {
        operation: "add", csr_type: "user", csr_requests: [{ csr: csr("p2"), group_id: other.group_id }],
    }, state.alice);
    let refused = false;
    try {
        await Noc.fromAsn1(der(answer.certificates[0].user_noc)).verify(crypto, state.rcac);
    } catch {
        refused = true;
    }
    check(refused, "a NOC of another fabric verified under this root");
});

finish();
