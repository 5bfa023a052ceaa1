// Account flow driven by the official npm SDK (@espressif/rainmaker-base-sdk 2.1.1), unchanged:
// sign up -> confirm with the code from the server's file mailbox -> log in -> read the user ->
// update the name -> refresh the session (explicitly, and implicitly through an expired access
// token) -> log out -> check that the session is gone.
//
// Environment: RM_BASE_URL (e.g. http://127.0.0.1:8080, no trailing slash, no /v1) and
// RM_MAILBOX (the server's mailbox directory). Normally started by run.sh.
// Prints one line per check and ends with `N passed, M failed`; exits 1 on any failure.

import { setTimeout as sleep } from "node:timers/promises";

import { ESPRMBase, ESPRMUser } from "@espressif/rainmaker-base-sdk";

import {
    check, checkApiFailure, checkEqual, configureSdkStep, confirmSignUp, describe, finish, kStepTimeoutMs, logIn,
    need, newAccount, note, rejectionOf, requireEnv, signUp, state, step, storage, waitForCode, withTimeout,
} from "./support.mjs";

// Keys the SDK 2.1.1 uses in its storage adapter (utils/constants.js, StorageKeys).
const kAccessTokenKey = "com.esprmbase.accessToken";
const kIdTokenKey = "com.esprmbase.idToken";
const kRefreshTokenKey = "com.esprmbase.refreshToken";

const { RM_BASE_URL: baseUrl, RM_MAILBOX: mailboxDir } = requireEnv("accounts.test.mjs", ["RM_BASE_URL", "RM_MAILBOX"]);

// ---------------------------------------------------------------------------------------------
// What the SDK does with the tokens it stores.

// The SDK stores and clears tokens without awaiting its adapter (logout's clean-up is not even
// awaited by logout itself); let those pending promise jobs run before storage is inspected.
async function settle() {
    await new Promise((resolve) => setImmediate(resolve));
}

// Exactly how the SDK decodes a token (services/ESPRMHelpers/DecodeToken.js): atob on the second
// segment. atob rejects '-' and '_', so a base64url payload containing them breaks the SDK.
function sdkDecode(token) {
    return JSON.parse(atob(token.split(".")[1]));
}

function checkJwtShape(token, what) {
    check(typeof token === "string" && token.length > 0, `${what} is missing`);
    const parts = token.split(".");
    checkEqual(parts.length, 3, `${what}: number of dot-separated segments`);
    check(/^[A-Za-z0-9+/=]+$/.test(parts[1]),
        `${what}: payload segment must contain no '-' or '_' (the SDK decodes it with atob)`);
    let payload;
    try {
        payload = sdkDecode(token);
    } catch (error) {
        throw new Error(`${what}: the SDK cannot decode the payload: ${describe(error)}`);
    }
    check(Number.isInteger(payload.exp), `${what}: payload "exp" must be an integer (seconds)`);
    check(payload.exp > Date.now() / 1000, `${what}: already expired (exp ${payload.exp})`);
    return payload;
}

// Runs `fn` while `new Date()` / `Date.now()` report a time shifted by `offsetMs`; the SDK reads
// the clock through `new Date().getTime()` to decide whether the access token has expired.
async function withClockShiftedBy(offsetMs, fn) {
    const RealDate = globalThis.Date;
    class ShiftedDate extends RealDate {
        constructor(...args) {
            if (args.length === 0) {
                super(RealDate.now() + offsetMs);
            } else {
                super(...args);
            }
        }
        static now() {
            return RealDate.now() + offsetMs;
        }
    }
    globalThis.Date = ShiftedDate;
    try {
        return await fn();
    } finally {
        globalThis.Date = RealDate;
    }
}

// ---------------------------------------------------------------------------------------------
// The flow.

const { suffix, email, password } = newAccount("sdk");
const newName = `SDK Tëster ${suffix}`;  // non-ASCII on purpose: the body is sent as UTF-8 text/plain

console.log(`# SDK ${ESPRMBase.currentVersion()} against ${baseUrl}, user ${email}`);

await configureSdkStep(baseUrl);

await step("sign up: auth.sendSignUpCode(email, password) -> POST /v1/user2", async () => {
    need("auth");
    await signUp(email, password, "response status");
    state.signedUp = true;
});

await step("log in before confirming is refused (400, account not verified)", async () => {
    need("auth", "signedUp");
    const error = await rejectionOf(() => state.auth.login(email, password), "login before confirmation");
    checkApiFailure(error, [400], "login before confirmation");
    checkEqual(error.errorCode, 101015, "error_code");
});

await step("the sign-up code arrives in the mailbox", async () => {
    need("signedUp");
    state.code = await waitForCode(mailboxDir, email);
});

await step("confirm: auth.confirmSignUp(email, code) -> POST /v1/user2", async () => {
    need("auth", "code");
    await confirmSignUp(email, state.code, "response status");
    state.confirmed = true;
});

await step("log in with a wrong password is refused (400, incorrect user name or password)", async () => {
    need("auth", "confirmed");
    const error = await rejectionOf(() => state.auth.login(email, `${password}x`), "login with a wrong password");
    checkApiFailure(error, [400], "login with a wrong password");
    checkEqual(error.errorCode, 101009, "error_code");
});

await step("log in: auth.login(email, password) -> POST /v1/login2, tokens stored", async () => {
    need("auth", "confirmed");
    storage.clear();
    let user;
    try {
        user = await logIn(email, password);
    } catch (error) {
        // The SDK stores the tokens and then decodes the id token; explain a decoding failure.
        await settle();
        if (storage.has(kIdTokenKey)) {
            checkJwtShape(storage.get(kIdTokenKey), "id token");
            checkJwtShape(storage.get(kAccessTokenKey), "access token");
        }
        throw error;
    }
    await settle();
    state.tokens = {
        access: storage.get(kAccessTokenKey),
        id: storage.get(kIdTokenKey),
        refresh: storage.get(kRefreshTokenKey),
    };
    check(typeof state.tokens.refresh === "string" && state.tokens.refresh.length > 0,
        'response "refreshtoken" is missing');
    state.user = user;
});

await step("tokens are JWTs the SDK can decode (exp; id token: email, custom:user_id)", async () => {
    need("tokens");
    const access = checkJwtShape(state.tokens.access, "access token");
    const id = checkJwtShape(state.tokens.id, "id token");
    check(typeof id["custom:user_id"] === "string" && id["custom:user_id"].length > 0,
        'id token payload "custom:user_id" is missing');
    checkEqual(ESPRMUser.userId, id["custom:user_id"], "ESPRMUser.userId (read by the SDK from the id token)");
    checkEqual(String(id.email ?? "").toLowerCase(), email, 'id token payload "email"');
    state.accessExp = access.exp;
    state.userId = id["custom:user_id"];
});

await step("read the user: user.getUserInfo() -> GET /v1/user2?custom_data=undefined", async () => {
    need("user", "userId");
    const info = await state.user.getUserInfo();
    checkEqual(info.userId, state.userId, "user_id");
    checkEqual(String(info.username ?? "").toLowerCase(), email, "user_name");
    checkEqual(typeof info.mfa, "boolean", 'type of "mfa"');
    check(info.name === undefined || typeof info.name === "string", '"name" must be a string when present');
});

await step("update the name: user.updateName(name) -> PUT /v1/user2", async () => {
    need("user");
    const response = await state.user.updateName(newName);
    checkEqual(response?.status, "success", "response status");
    state.nameUpdated = true;
});

await step("the new name is read back by user.getUserInfo()", async () => {
    need("user", "nameUpdated");
    const info = await state.user.getUserInfo();
    checkEqual(info.name, newName, "name");
});

await step("refresh: ESPRMUser.extendSession(refreshToken) -> POST /v1/login2, new tokens", async () => {
    need("tokens", "userId");
    await sleep(1100);  // a new second, so tokens that only carry iat/exp also change
    const returned = await ESPRMUser.extendSession(state.tokens.refresh);
    await settle();
    const access = storage.get(kAccessTokenKey);
    const id = storage.get(kIdTokenKey);
    checkEqual(returned, access, "the access token extendSession returns vs. the stored one");
    check(access !== state.tokens.access, "the refreshed access token equals the old one");
    check(id !== state.tokens.id, "the refreshed id token equals the old one");
    checkEqual(storage.get(kRefreshTokenKey), state.tokens.refresh, "the stored refresh token (kept by the SDK)");
    checkJwtShape(access, "refreshed access token");
    const idPayload = checkJwtShape(id, "refreshed id token");
    checkEqual(idPayload["custom:user_id"], state.userId, 'refreshed id token "custom:user_id"');
    state.refreshed = { access, id, refresh: state.tokens.refresh };
});

await step("the refreshed access token is accepted: user.getUserInfo()", async () => {
    need("user", "refreshed");
    const info = await state.user.getUserInfo();
    checkEqual(info.userId, state.userId, "user_id");
    checkEqual(info.name, newName, "name");
});

await step("implicit refresh: with the access token expired, user.getUserInfo() refreshes first", async () => {
    need("user", "refreshed");
    await sleep(1100);
    const exp = sdkDecode(state.refreshed.access).exp;
    const offsetMs = (exp + 60) * 1000 - Date.now();
    const info = await withClockShiftedBy(offsetMs, () => state.user.getUserInfo());
    await settle();
    const access = storage.get(kAccessTokenKey);
    check(typeof access === "string" && access !== state.refreshed.access,
        "the SDK did not store a new access token (the refresh call was not made or failed)");
    checkEqual(info.userId, state.userId, "user_id");
    state.refreshed = { access, id: storage.get(kIdTokenKey), refresh: storage.get(kRefreshTokenKey) };
});

await step("log out: user.logout() -> POST /v1/logout2, the SDK clears its tokens", async () => {
    need("user", "refreshed");
    const response = await state.user.logout();
    await settle();
    checkEqual(response?.status, "success", "response status");
    check(!storage.has(kAccessTokenKey) && !storage.has(kIdTokenKey) && !storage.has(kRefreshTokenKey),
        "the SDK still holds tokens after logout");
    state.loggedOut = true;
});

await step("after logout the SDK refuses calls (no access token)", async () => {
    need("user", "loggedOut");
    const error = await rejectionOf(() => state.user.getUserInfo(), "getUserInfo after logout");
    check(error instanceof Error && error.code === "MISSING_ACCESS_TOKEN",
        `expected ESPTokenError MISSING_ACCESS_TOKEN, got ${describe(error)}`);
});

await step("after logout the refresh token is revoked: ESPRMUser.extendSession fails", async () => {
    need("loggedOut", "refreshed");
    const error = await rejectionOf(() => ESPRMUser.extendSession(state.refreshed.refresh),
        "extendSession with the logged-out refresh token");
    checkApiFailure(error, [400, 401], "extendSession after logout");
});

// Informational: access tokens are JWTs and may stay valid until they expire, as with Cognito's
// plain sign-out; this only reports what the server does.
if (state.loggedOut && state.refreshed) {
    try {
        storage.set(kAccessTokenKey, state.refreshed.access);
        storage.set(kIdTokenKey, state.refreshed.id);
        storage.set(kRefreshTokenKey, state.refreshed.refresh);
        await withTimeout(state.user.getUserInfo(), kStepTimeoutMs, "getUserInfo");
        note("the logged-out access token is still accepted by GET /v1/user2 until it expires");
    } catch (error) {
        note(`the logged-out access token is refused by GET /v1/user2: ${describe(error)}`);
    } finally {
        await settle();
        storage.clear();
    }
}

await step("log in again with the same password after logout", async () => {
    need("auth", "loggedOut");
    const user = await state.auth.login(email, password);
    await settle();
    const info = await user.getUserInfo();
    checkEqual(info.userId, state.userId, "user_id");
    await user.logout();
    await settle();
});

finish();
