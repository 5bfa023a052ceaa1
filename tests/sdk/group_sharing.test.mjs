// Group sharing driven by the official npm SDK (@espressif/rainmaker-base-sdk 2.1.1), unchanged,
// with three users and one simulated device (rainmaker-sim) on the server's embedded MQTT broker:
// Alice claims and maps the node -> builds a home group "Home" with the node and a room sub-group
// with the node -> the share calls' argument errors (self, unknown user, too many / no groups, a
// group that is not the caller's) -> shares Home with Bob as secondary -> Bob lists his received
// requests (group ids and names) and accepts -> Bob sees Home (not primary) with the room as its
// sub-group, sees the node (not primary) and sets a param the device receives -> Bob's sharing
// info shows Alice as primary and no secondary list; the node's sharing sources name Home -> Bob
// cannot share Home (108041) nor modify it (108056); the node cannot be unshared one by one
// (107028) -> Alice sees Bob as secondary in Home's sharing info (plain, with the share metadata,
// with sub-groups; the room's with parent groups), cannot leave as the sole primary (108142) -> Alice
// removes Bob (group.removeSharingFor) and Bob loses the node and the group at once -> Carol
// declines a request and gets nothing -> Alice withdraws a pending request -> Bob accepts again
// and leaves (group.leave) -> Bob accepts again; a sub-group cannot be unshared alone (108055);
// Alice unshares Home (DELETE /v1/user/node_group/sharing) -> Alice shares Home with Carol as
// primary: Carol sees it primary, still cannot modify it (108056) nor transfer the node (107034),
// but may share it herself: Bob accepts Carol's request, then removes his own access -> Alice
// deletes Home and Carol loses it at once -> everyone logs out.
//
// The SDK keeps one user's tokens in its storage, so the test saves each user's storage after
// login and puts it back before acting as that user (support.mjs makeActors).
//
// Environment (normally set by run.sh): RM_BASE_URL (no trailing slash, no /v1), RM_MAILBOX (the
// server's mailbox directory), RM_MQTT_PORT and RM_CA_FILE (the device listener and its CA),
// RM_SIM (path of rainmaker-sim), optionally RM_WORK_DIR (scratch directory for the node files).
// Prints one line per check and ends with `N passed, M failed`; exits 1 on any failure.

import { randomUUID } from "node:crypto";
import { rm } from "node:fs/promises";
import { isDeepStrictEqual } from "node:util";

import { ESPGroupSharingInfo, ESPGroupSharingRequest, ESPRMBase, ESPRMNode } from "@espressif/rainmaker-base-sdk";

import {
    check, checkApiFailure, checkEqual, checkGroup, claimAndRunNodeSteps, configureSdkStep, expectFailure,
    expectPowerSetReaches, expectStaleSetIgnored, finish, importSdkModule, listedNode, makeActors, mapNodeBySecret,
    need, newAccount, nodeSharingInfo, note, rejectionOf, requireEnv, signUpActorsSteps, simulatorPrereqsStep, state,
    step, stopNodeAndLogOutStep, waitForListedNode,
} from "./support.mjs";

// Loaded from the SDK's own dist directory (the same module instances index.js uses, so they share
// the configured base URL and the stored tokens):
// - NodeMappingHelper: the secret-key mapping calls (PUT/GET /v1/user/nodes/mapping) the SDK's
//   provisioning flow uses but the package does not export;
// - ESPRMAPIManager: the SDK's authorized request, for DELETE /v1/user/node_group/sharing?groups=
//   &user_name=, which no SDK method makes (the other such call, GET /v1/user/nodes/sharing, is
//   support.mjs nodeSharingInfo).
const { NodeMappingHelper } = await importSdkModule("./services/ESPRMHelpers/NodeMappingHelper.js");
const { ESPRMAPIManager } = await importSdkModule("./services/ESPRMAPIManager.js");

const {
    RM_BASE_URL: baseUrl, RM_MAILBOX: mailboxDir, RM_MQTT_PORT: mqttPort, RM_CA_FILE: caFile, RM_SIM: simBin,
} = requireEnv("group_sharing.test.mjs", ["RM_BASE_URL", "RM_MAILBOX", "RM_MQTT_PORT", "RM_CA_FILE", "RM_SIM"]);

// Error codes of the server (src/core/error_codes.def) this test expects.
const kNodeNotOwned = 100010;
const kNodeViaGroupRemove = 107028;
const kNodeViaGroupTransfer = 107034;
const kGroupNotFound = 108023;
const kGroupShareTooManyGroups = 108036;
const kGroupShareRequestClosed = 108037;
const kGroupShareRequestDeclined = 108039;
const kGroupShareRequestNotFound = 108040;
const kGroupShareNotPrimary = 108041;
const kGroupShareNoGroups = 108044;
const kGroupShareSelf = 108046;
const kGroupShareNotOwned = 108048;
const kGroupShareUserNotFound = 108050;
const kGroupUnshareViaParent = 108055;
const kGroupNotOwner = 108056;
const kSolePrimaryLeave = 108142;

// ---------------------------------------------------------------------------------------------
// Users: each with an account, the ESPRMUser from login and the saved SDK storage
// (support.mjs makeActors: users, as(who, fn)).

const actors = makeActors({
    alice: newAccount("sdk-gshare-alice"),
    bob: newAccount("sdk-gshare-bob"),
    carol: newAccount("sdk-gshare-carol"),
});
const { users, as } = actors;

// ---------------------------------------------------------------------------------------------
// Helpers over the SDK's node, group and group sharing models (and support.mjs listedNode,
// waitForListedNode, nodeSharingInfo, checkSetAnswer, checkGroup).

// The request `id` among `who`'s received (or issued) group sharing requests, following the
// SDK's fetchNext() pages.
async function findGroupRequest(who, id, issued = false) {
    return as(who, async (user) => {
        let page = issued ? await user.getIssuedGroupSharingRequests() : await user.getReceivedGroupSharingRequests();
        for (let pages = 1; ; pages += 1) {
            check(Array.isArray(page.sharedRequests), `sharedRequests is not an array: ${JSON.stringify(page)}`);
            const found = page.sharedRequests.find((r) => r.id === id);
            if (found !== undefined) {
                check(found instanceof ESPGroupSharingRequest, "the request is not an ESPGroupSharingRequest");
                return found;
            }
            if (!page.hasNext) {
                return undefined;
            }
            check(pages < 20, "more than 20 pages of group sharing requests");
            check(typeof page.fetchNext === "function", "hasNext without fetchNext");
            page = await page.fetchNext();
        }
    });
}

// A group sharing request of Home (sharing_requests[] item as the SDK maps it).
function checkGroupRequest(request, expected, what) {
    check(request !== undefined, `${what}: the request is not listed`);
    checkEqual(request.status, expected.status, `${what}: status (request_status)`);
    checkEqual(request.groupIds, [state.home.id], `${what}: groupIds (group_ids)`);
    checkEqual(request.groupnames, ["Home"], `${what}: groupnames (group_names)`);
    checkEqual(request.username, expected.to, `${what}: username (user_name, the receiver)`);
    checkEqual(request.primaryUsername, expected.from, `${what}: primaryUsername (primary_user_name, the sender)`);
    check(Number.isInteger(request.timestamp) && request.timestamp > 0,
        `${what}: timestamp (request_timestamp) ${JSON.stringify(request.timestamp)}`);
    check(request.transfer === undefined || request.transfer === false, `${what}: transfer ${request.transfer}`);
    if (expected.metadata !== undefined) {
        checkEqual(request.metadata, expected.metadata, `${what}: metadata`);
    }
}

// `from` shares Home through `share(user)` (an SDK call answering the request id); `to` finds the
// request among the received ones and accepts it. Returns the request id.
async function shareAndAccept(from, to, share, expected = {}) {
    const id = await as(from, share);
    check(typeof id === "string" && id.length > 0, `request id ${JSON.stringify(id)}`);
    const request = await findGroupRequest(to, id);
    checkGroupRequest(request, { status: "pending", to: users[to].email, from: users[from].email, ...expected },
        `${to}'s received request`);
    checkEqual((await as(to, () => request.accept()))?.status, "success", `${to}'s accept() status`);
    return id;
}

// `who` has Home (and the room under it) and the node in the role `primary`; returns
// {node, home, room} as `who` sees them.
async function expectGroupAccess(who, primary) {
    const node = await waitForListedNode(as, who, state.nodeId);
    check(node instanceof ESPRMNode, "not an ESPRMNode");
    checkEqual(node.isPrimaryUser, primary, `${who}'s node isPrimaryUser`);
    const page = await as(who, (user) => user.getGroups({ withNodeList: true, withSubGroups: true }));
    checkEqual(page.groups.map((g) => g.id), [state.home.id], `${who}'s top-level groups`);
    const [home] = page.groups;
    checkGroup(home, { name: "Home", isPrimaryUser: primary, nodes: [state.nodeId], type: "home" }, `${who}'s Home`);
    checkEqual(home.subGroups?.map((g) => g.id), [state.room.id], `${who}'s Home sub-groups`);
    checkGroup(home.subGroups[0], { name: "Living Room", parentGroupId: state.home.id, nodes: [state.nodeId] },
        `${who}'s Living Room`);
    const room = await as(who, (user) => user.getGroupById({ id: state.room.id, withNodeList: true }));
    checkGroup(room, { id: state.room.id, parentGroupId: state.home.id, nodes: [state.nodeId] },
        `${who}'s getGroupById(room)`);
    return { node, home, room };
}

// `who` has neither the node nor Home, at once (no polling).
async function expectNoGroupAccess(who) {
    checkEqual(await listedNode(as, who, state.nodeId), undefined, `the node in ${who}'s getUserNodes()`);
    await as(who, async (user) => {
        await expectFailure(() => user.getNodeDetails(state.nodeId), kNodeNotOwned, `${who}'s getNodeDetails`);
        checkEqual((await user.getGroups({})).groups, [], `${who}'s groups`);
        await expectFailure(() => user.getGroupById({ id: state.home.id }), kGroupNotFound, `${who}'s getGroupById(Home)`);
    });
}

// Home's sharing info as `who` sees it (group.getSharingInfo -> GET /v1/user/node_group/sharing).
async function homeSharingInfo(who, group, params = {}) {
    const info = await as(who, () => group.getSharingInfo(params));
    check(info instanceof ESPGroupSharingInfo, "not an ESPGroupSharingInfo");
    checkEqual(info.groupId, state.home.id, `${who}'s sharing info: groupId (group_id)`);
    return info;
}

function userNames(list) {
    return list?.map((u) => u.username);
}

// DELETE /v1/user/node_group/sharing?groups=<ids>&user_name= through the SDK's authorized request
// (no SDK method: group.removeSharingFor uses DELETE /v1/user/node_group?remove_sharing=true).
async function unshareGroups(who, groupIds, userName) {
    return as(who, () => ESPRMAPIManager.authorizeRequest({
        url: "user/node_group/sharing", method: "DELETE", params: { groups: groupIds.join(","), user_name: userName },
    }));
}

// ---------------------------------------------------------------------------------------------
// Set-up: three users, one node of Alice's, her Home with a room.

const mappingSecret = randomUUID();
const shareMetadata = { invited_by: "sdk group sharing test", rooms: 1 };

console.log(`# SDK ${ESPRMBase.currentVersion()} against ${baseUrl}, devices on 127.0.0.1:${mqttPort}, ` +
    `users ${users.alice.email}, ${users.bob.email}, ${users.carol.email}`);

await simulatorPrereqsStep({ simBin, caFile, mqttPort, prefix: "group-sharing-test-" });

await configureSdkStep(baseUrl);

await signUpActorsSteps(actors, mailboxDir);

await claimAndRunNodeSteps({ as, owner: "alice", simBin, baseUrl, mqttPort, caFile, secret: mappingSecret });

await step("alice: the mapping is confirmed and user.getUserNodes() lists the node as primary", async () => {
    need("nodeId");
    await as("alice", () => mapNodeBySecret(NodeMappingHelper, state.nodeId, mappingSecret));
    const node = await waitForListedNode(as, "alice", state.nodeId);
    checkEqual(node.isPrimaryUser, true, "isPrimaryUser");
    state.aliceNode = node;
});

await step("alice: user.createGroup(\"Home\" with the node) and home.createSubGroup(\"Living Room\" with the node)", async () => {
    need("aliceNode");
    await as("alice", async (user) => {
        const home = await user.createGroup({ name: "Home", nodeIds: [state.nodeId], type: "home" });
        checkGroup(home, { name: "Home", nodes: [state.nodeId], isPrimaryUser: true }, "createGroup");
        check(typeof home.id === "string" && home.id.length > 0, `group id ${JSON.stringify(home.id)}`);
        const room = await home.createSubGroup({ name: "Living Room", nodeIds: [state.nodeId], type: "room" });
        checkGroup(room, { name: "Living Room", parentGroupId: home.id, nodes: [state.nodeId] }, "createSubGroup");
        state.home = home;
        state.room = room;
    });
});

await step("bob and carol: no groups, and Alice's Home does not exist for them (108023)", async () => {
    need("home", "bob", "carol");
    await expectNoGroupAccess("bob");
    await expectNoGroupAccess("carol");
});

// ---------------------------------------------------------------------------------------------
// Argument errors of PUT /v1/user/node_group/sharing.

await step("alice: home.Share with herself fails with 108046", async () => {
    need("home");
    await as("alice", () => expectFailure(() => state.home.Share({ toUserName: users.alice.email }), kGroupShareSelf,
        "Share(alice)"));
});

await step("alice: home.Share with an unknown user name fails with 108050", async () => {
    need("home");
    await as("alice", () => expectFailure(() => state.home.Share({ toUserName: `nobody-${randomUUID()}@example.com` }),
        kGroupShareUserNotFound, "Share(unknown user)"));
});

await step("alice: user.shareGroups with 11 group ids fails with 108036, with none with 108044", async () => {
    need("room");
    await as("alice", async (user) => {
        const groupIds = [state.home.id, state.room.id, ...Array.from({ length: 9 }, () => randomUUID())];
        await expectFailure(() => user.shareGroups({ groupIds, toUserName: users.bob.email }), kGroupShareTooManyGroups,
            "shareGroups(11 groups)");
        await expectFailure(() => user.shareGroups({ groupIds: [], toUserName: users.bob.email }), kGroupShareNoGroups,
            "shareGroups(no groups)");
    });
});

await step("carol: user.shareGroups of Alice's Home fails with 108048", async () => {
    need("home", "carol");
    await as("carol", (user) => expectFailure(
        () => user.shareGroups({ groupIds: [state.home.id], toUserName: users.bob.email }), kGroupShareNotOwned,
        "carol's shareGroups(Alice's Home)"));
});

// ---------------------------------------------------------------------------------------------
// Sharing Home with Bob as secondary.

await step("alice: home.Share({toUserName: bob, metadata}) -> PUT /v1/user/node_group/sharing answers a request id", async () => {
    need("home", "bob");
    const id = await as("alice", () => state.home.Share({ toUserName: users.bob.email, metadata: shareMetadata }));
    check(typeof id === "string" && id.length > 0, `request id ${JSON.stringify(id)}`);
    state.bobRequestId = id;
});

await step("alice: user.getIssuedGroupSharingRequests() lists it pending, with group ids and names", async () => {
    need("bobRequestId");
    const request = await findGroupRequest("alice", state.bobRequestId, true);
    checkGroupRequest(request, { status: "pending", to: users.bob.email, from: users.alice.email, metadata: shareMetadata },
        "issued request");
});

await step("bob: before accepting, neither Home nor the node is his", async () => {
    need("bobRequestId");
    await expectNoGroupAccess("bob");
});

await step("bob: user.getReceivedGroupSharingRequests() lists it; request.accept() -> PUT .../sharing/requests {accept: true}", async () => {
    need("bobRequestId");
    const request = await findGroupRequest("bob", state.bobRequestId);
    checkGroupRequest(request, { status: "pending", to: users.bob.email, from: users.alice.email, metadata: shareMetadata },
        "received request");
    checkEqual((await as("bob", () => request.accept()))?.status, "success", "accept() status");
    state.bobRequest = request;
});

await step("bob: the request is now accepted; accepting it again fails with 108037", async () => {
    need("bobRequest");
    checkGroupRequest(await findGroupRequest("bob", state.bobRequestId),
        { status: "accepted", to: users.bob.email, from: users.alice.email }, "received request");
    checkGroupRequest(await findGroupRequest("alice", state.bobRequestId, true),
        { status: "accepted", to: users.bob.email, from: users.alice.email }, "alice's issued request");
    await as("bob", () => expectFailure(() => state.bobRequest.accept(), kGroupShareRequestClosed, "a second accept()"));
});

await step("bob: user.getGroups() has Home (isPrimaryUser false) with the room as sub-group; the node is his as secondary", async () => {
    need("bobRequest");
    const { node, home } = await expectGroupAccess("bob", false);
    await as("bob", async (user) => {
        const details = await user.getNodeDetails(state.nodeId);
        checkEqual(details.isPrimaryUser, false, "getNodeDetails isPrimaryUser");
        checkEqual(await home.getNodesList(), [state.nodeId], "bob's home.getNodesList()");
        checkEqual((await home.getSubGroups()).map((g) => g.id), [state.room.id], "bob's home.getSubGroups() ids");
    });
    state.bobNode = node;
    state.bobHome = home;
});

await step("bob: param.setValue(true) on Light.Power reaches the device; Alice reads it back", async () => {
    need("bobNode", "sim");
    await expectPowerSetReaches(as, { who: "bob", node: state.bobNode, reader: "alice", nodeId: state.nodeId });
});

await step("bob: home.getSharingInfo({}) -> GET /v1/user/node_group/sharing?group_id= shows Alice as primary, no secondary list", async () => {
    need("bobHome");
    const info = await homeSharingInfo("bob", state.bobHome);
    checkEqual(userNames(info.primaryUsers), [users.alice.email], "primaryUsers");
    checkEqual(info.secondaryUsers, undefined, "secondaryUsers (users.secondary is only shown to primaries)");
    checkEqual(info.mutuallyExclusive, false, "mutuallyExclusive");
});

await step("GET /v1/user/nodes/sharing (SDK authorized request): bob's node sources include Home's id", async () => {
    need("bobNode");
    const entry = await nodeSharingInfo(as, "bob", state.nodeId);
    checkEqual(entry.users?.primary, [users.alice.email], "users.primary");
    check(Array.isArray(entry.sources) && entry.sources.includes(state.home.id),
        `sources ${JSON.stringify(entry.sources)} do not include Home ${state.home.id}`);
    check(!entry.sources.includes("NODE"), `sources ${JSON.stringify(entry.sources)} claim a node share`);
});

await step("bob: home.Share and user.shareGroups of Home as secondary fail with 108041", async () => {
    need("bobHome", "carol");
    await as("bob", async (user) => {
        await expectFailure(() => state.bobHome.Share({ toUserName: users.carol.email }), kGroupShareNotPrimary,
            "bob's home.Share(carol)");
        await expectFailure(() => user.shareGroups({ groupIds: [state.home.id], toUserName: users.carol.email }),
            kGroupShareNotPrimary, "bob's shareGroups([Home], carol)");
    });
    await expectNoGroupAccess("carol");
});

await step("bob: updateGroupInfo, removeNodes on Home and updateGroupInfo on the room fail with 108056 (not the owner)", async () => {
    need("bobHome");
    await as("bob", async (user) => {
        await expectFailure(() => state.bobHome.updateGroupInfo({ groupName: "Bob's Home" }), kGroupNotOwner,
            "bob's home.updateGroupInfo");
        await expectFailure(() => state.bobHome.removeNodes([state.nodeId]), kGroupNotOwner, "bob's home.removeNodes");
        const room = await user.getGroupById({ id: state.room.id });
        await expectFailure(() => room.updateGroupInfo({ description: "by bob" }), kGroupNotOwner,
            "bob's room.updateGroupInfo");
    });
    const home = await as("alice", (user) => user.getGroupById({ id: state.home.id, withNodeList: true }));
    checkGroup(home, { name: "Home", nodes: [state.nodeId] }, "alice's Home afterwards");
});

await step("the node shared only through Home cannot be unshared one by one: alice's node.removeSharingFor(bob) fails with 107028", async () => {
    need("bobNode");
    await as("alice", () => expectFailure(() => state.aliceNode.removeSharingFor(users.bob.email), kNodeViaGroupRemove,
        "alice's node.removeSharingFor(bob)"));
    const error = await as("bob", () => rejectionOf(() => state.bobNode.removeSharingFor(users.bob.email),
        "bob's node.removeSharingFor(bob)"));
    checkApiFailure(error, [400], "bob's node.removeSharingFor(bob)");
    note(`bob's own node.removeSharingFor(bob): error_code ${error.errorCode} (${error.description})`);
    check((await listedNode(as, "bob", state.nodeId)) !== undefined, "bob lost the node");
});

await step("alice: home.getSharingInfo({}) shows alice as primary and bob as secondary", async () => {
    need("bobRequest");
    const info = await homeSharingInfo("alice", state.home);
    checkEqual(userNames(info.primaryUsers), [users.alice.email], "primaryUsers");
    checkEqual(userNames(info.secondaryUsers), [users.bob.email], "secondaryUsers");
});

// The raw GET /v1/user/node_group/sharing answer for `params`, to show in a failure message.
async function rawGroupSharing(who, params) {
    try {
        return JSON.stringify(await as(who, () => ESPRMAPIManager.authorizeRequest({
            url: "user/node_group/sharing", method: "GET", params,
        })));
    } catch (error) {
        return `(failed: ${JSON.stringify(error)})`;
    }
}

await step("alice: home.getSharingInfo({metadata: true}) gives bob's share metadata (users.secondary_metadata)", async () => {
    need("bobRequest");
    const info = await homeSharingInfo("alice", state.home, { metadata: true });
    const secondaries = info.secondaryUsers?.map((u) => ({ username: u.username, metadata: u.metadata }));
    const expected = [{ username: users.bob.email, metadata: shareMetadata }];
    if (!isDeepStrictEqual(secondaries, expected) || !isDeepStrictEqual(userNames(info.primaryUsers), [users.alice.email])) {
        const raw = await rawGroupSharing("alice", { group_id: state.home.id, metadata: true });
        throw new Error(`secondaryUsers: expected ${JSON.stringify(expected)}, got ${JSON.stringify(secondaries)}; ` +
            `primaryUsers ${JSON.stringify(userNames(info.primaryUsers))}; ` +
            `GET /v1/user/node_group/sharing?group_id=<Home>&metadata=true answered ${raw}`);
    }
});

await step("alice: home.getSharingInfo({withSubGroups: true}) lists the room in subGroupsInfo (sub_groups)", async () => {
    need("bobRequest");
    const home = await homeSharingInfo("alice", state.home, { withSubGroups: true });
    const ids = home.subGroupsInfo?.map((g) => g.groupId);
    if (!isDeepStrictEqual(ids, [state.room.id])) {
        const raw = await rawGroupSharing("alice", { group_id: state.home.id, sub_groups: true });
        throw new Error(`subGroupsInfo ids: expected ${JSON.stringify([state.room.id])}, got ${JSON.stringify(ids)}; ` +
            `GET /v1/user/node_group/sharing?group_id=<Home>&sub_groups=true answered ${raw}`);
    }
});

await step("alice: room.getSharingInfo({withParentGroups: true}) lists Home in parentGroupsInfo (parent_groups)", async () => {
    need("bobRequest");
    const room = await as("alice", () => state.room.getSharingInfo({ withParentGroups: true }));
    check(room instanceof ESPGroupSharingInfo, "not an ESPGroupSharingInfo");
    checkEqual(room.groupId, state.room.id, "the room's groupId");
    const ids = room.parentGroupsInfo?.map((g) => g.groupId);
    if (!isDeepStrictEqual(ids, [state.home.id])) {
        const raw = await rawGroupSharing("alice", { group_id: state.room.id, parent_groups: true });
        throw new Error(`parentGroupsInfo ids: expected ${JSON.stringify([state.home.id])}, got ${JSON.stringify(ids)}; ` +
            `GET /v1/user/node_group/sharing?group_id=<room>&parent_groups=true answered ${raw}`);
    }
});

await step("alice: home.leave() as the sole primary fails with 108142", async () => {
    need("home");
    await as("alice", () => expectFailure(() => state.home.leave(), kSolePrimaryLeave, "alice's home.leave()"));
});

await step("alice: home.removeSharingFor(bob) -> DELETE /v1/user/node_group?group_id=&remove_sharing=true&user_name=", async () => {
    need("bobRequest");
    checkEqual((await as("alice", () => state.home.removeSharingFor(users.bob.email)))?.status, "success",
        "removeSharingFor status");
    state.bobRemoved = true;
});

await step("bob: the node and Home are gone at once, and his stale set reaches nothing", async () => {
    need("bobRemoved", "sim");
    await expectNoGroupAccess("bob");
    await expectStaleSetIgnored(as, {
        who: "bob", staleNode: state.bobNode, owner: "alice", ownerNode: state.aliceNode, nodeId: state.nodeId,
    });
});

await step("alice: no secondary left in Home's sharing info; Home keeps the node", async () => {
    need("bobRemoved");
    const info = await homeSharingInfo("alice", state.home);
    checkEqual(userNames(info.primaryUsers), [users.alice.email], "primaryUsers");
    checkEqual(userNames(info.secondaryUsers), [], "secondaryUsers");
    checkEqual(await as("alice", () => state.home.getNodesList()), [state.nodeId], "Home's nodes");
    check((await listedNode(as, "alice", state.nodeId)) !== undefined, "alice lost the node");
});

// ---------------------------------------------------------------------------------------------
// A declined request, a withdrawn request.

await step("carol: request.decline() -> {accept: false}; she gets nothing; accept() and the sender's remove() then fail", async () => {
    need("home", "carol");
    const id = await as("alice", () => state.home.Share({ toUserName: users.carol.email }));
    const request = await findGroupRequest("carol", id);
    checkGroupRequest(request, { status: "pending", to: users.carol.email, from: users.alice.email }, "carol's request");
    checkEqual((await as("carol", () => request.decline()))?.status, "success", "decline() status");
    checkGroupRequest(await findGroupRequest("carol", id), { status: "declined", to: users.carol.email, from: users.alice.email },
        "carol's request after decline()");
    const issued = await findGroupRequest("alice", id, true);
    checkGroupRequest(issued, { status: "declined", to: users.carol.email, from: users.alice.email },
        "alice's issued request");
    await expectNoGroupAccess("carol");
    await as("carol", () => expectFailure(() => request.accept(), kGroupShareRequestClosed, "accept() after decline()"));
    await as("alice", () => expectFailure(() => issued.remove(), kGroupShareRequestDeclined,
        "alice's remove() of the declined request"));
});

await step("alice: request.remove() -> DELETE .../sharing/requests?request_id= withdraws it before carol accepts", async () => {
    need("home", "carol");
    const id = await as("alice", (user) => user.shareGroups({ groupIds: [state.home.id], toUserName: users.carol.email }));
    check(typeof id === "string" && id.length > 0, `request id ${JSON.stringify(id)}`);
    const received = await findGroupRequest("carol", id);
    checkGroupRequest(received, { status: "pending", to: users.carol.email, from: users.alice.email }, "carol's request");
    const issued = await findGroupRequest("alice", id, true);
    checkEqual((await as("alice", () => issued.remove()))?.status, "success", "remove() status");
    checkEqual(await findGroupRequest("alice", id, true), undefined, "the withdrawn request among alice's issued ones");
    checkEqual(await findGroupRequest("carol", id), undefined, "the withdrawn request among carol's received ones");
    await as("carol", () => expectFailure(() => received.accept(), kGroupShareRequestClosed,
        "carol's accept() of the withdrawn request"));
    await as("alice", () => expectFailure(() => issued.remove(), kGroupShareRequestNotFound,
        "a second remove()", [404]));
    await expectNoGroupAccess("carol");
});

// ---------------------------------------------------------------------------------------------
// Leaving, unsharing.

await step("alice: user.shareGroups({groupIds: [Home], toUserName: bob}); bob accepts and has Home again", async () => {
    need("bobRemoved");
    await shareAndAccept("alice", "bob",
        (user) => user.shareGroups({ groupIds: [state.home.id], toUserName: users.bob.email }));
    state.bobHome = (await expectGroupAccess("bob", false)).home;
    state.bobAgain = true;
});

await step("bob: home.leave() -> DELETE /v1/user/node_group?group_id=&leave=true; the node and Home are gone at once", async () => {
    need("bobAgain");
    checkEqual((await as("bob", () => state.bobHome.leave()))?.status, "success", "leave() status");
    await expectNoGroupAccess("bob");
    const info = await homeSharingInfo("alice", state.home);
    checkEqual(userNames(info.secondaryUsers), [], "alice's view: secondaryUsers");
    state.bobLeft = true;
});

await step("alice: home.Share(bob) once more; bob accepts; the room alone cannot be unshared (108055)", async () => {
    need("bobLeft");
    await shareAndAccept("alice", "bob", () => state.home.Share({ toUserName: users.bob.email }));
    await expectGroupAccess("bob", false);
    await expectFailure(() => unshareGroups("alice", [state.room.id], users.bob.email), kGroupUnshareViaParent,
        "DELETE /v1/user/node_group/sharing?groups=<room>&user_name=<bob>");
    check((await listedNode(as, "bob", state.nodeId)) !== undefined, "bob lost the node");
    state.bobThirdTime = true;
});

await step("alice: DELETE /v1/user/node_group/sharing?groups=<Home>&user_name=<bob> (SDK authorized request); bob loses everything at once", async () => {
    need("bobThirdTime");
    checkEqual((await unshareGroups("alice", [state.home.id], users.bob.email))?.status, "success", "unshare status");
    await expectNoGroupAccess("bob");
    state.bobUnshared = true;
});

// ---------------------------------------------------------------------------------------------
// Carol as a primary by share.

await step("alice: home.Share({toUserName: carol, makePrimary: true}); carol accepts and sees Home and the node as primary", async () => {
    need("home", "carol");
    await shareAndAccept("alice", "carol", () => state.home.Share({ toUserName: users.carol.email, makePrimary: true }));
    const { node, home } = await expectGroupAccess("carol", true);
    state.carolNode = node;
    state.carolHome = home;
});

await step("carol: home.getSharingInfo({}) shows alice and carol as primaries and the secondary list", async () => {
    need("carolHome");
    const info = await homeSharingInfo("carol", state.carolHome);
    checkEqual(userNames(info.primaryUsers)?.sort(), [users.alice.email, users.carol.email].sort(), "primaryUsers");
    checkEqual(userNames(info.secondaryUsers), [], "secondaryUsers");
});

await step("carol: updateGroupInfo on Home fails with 108056; node.transferNode of the group-shared node fails with 107034", async () => {
    need("carolHome", "carolNode");
    await as("carol", async () => {
        await expectFailure(() => state.carolHome.updateGroupInfo({ groupName: "Carol's Home" }), kGroupNotOwner,
            "carol's home.updateGroupInfo");
        await expectFailure(() => state.carolNode.transferNode({ toUserName: users.bob.email }), kNodeViaGroupTransfer,
            "carol's node.transferNode(bob)");
    });
});

await step("carol: user.shareGroups({groupIds: [Home], toUserName: bob}) as a primary by share; bob accepts as secondary", async () => {
    need("carolHome", "bobUnshared");
    await shareAndAccept("carol", "bob",
        (user) => user.shareGroups({ groupIds: [state.home.id], toUserName: users.bob.email }));
    await expectGroupAccess("bob", false);
    const info = await homeSharingInfo("alice", state.home);
    checkEqual(userNames(info.primaryUsers)?.sort(), [users.alice.email, users.carol.email].sort(), "alice's view: primaryUsers");
    checkEqual(userNames(info.secondaryUsers), [users.bob.email], "alice's view: secondaryUsers");
    state.bobViaCarol = true;
});

await step("bob: DELETE /v1/user/node_group/sharing?groups=<Home>&user_name=<bob> removes his own access", async () => {
    need("bobViaCarol");
    checkEqual((await unshareGroups("bob", [state.home.id], users.bob.email))?.status, "success", "self-unshare status");
    await expectNoGroupAccess("bob");
    const info = await homeSharingInfo("carol", state.carolHome);
    checkEqual(userNames(info.secondaryUsers), [], "carol's view: secondaryUsers");
});

// ---------------------------------------------------------------------------------------------
// Clean-up through the SDK.

await step("alice: home.delete() while shared with carol; carol loses the node and Home at once, alice keeps the node", async () => {
    need("home");
    await as("alice", async (user) => {
        checkEqual((await state.home.delete())?.status, "success", "home.delete() status");
        checkEqual((await user.getGroups({})).groups, [], "alice's groups");
    });
    await expectNoGroupAccess("carol");
    await expectNoGroupAccess("bob");
    const node = await listedNode(as, "alice", state.nodeId);
    check(node !== undefined, "alice lost the node");
    checkEqual(node.isPrimaryUser, true, "alice's isPrimaryUser");
});

await stopNodeAndLogOutStep(actors);

// ---------------------------------------------------------------------------------------------

if (state.sim !== undefined) {
    await state.sim.stop();
}
if (state.workDir !== undefined) {
    await rm(state.workDir, { recursive: true, force: true });
}
finish();
