// Groups and node sharing driven by the official npm SDK (@espressif/rainmaker-base-sdk 2.1.1),
// unchanged, with three users and one simulated device (rainmaker-sim) on the server's embedded
// MQTT broker:
// Alice claims and maps the node -> builds a home group with the node, a room sub-group and a
// third-level sub-group (a fourth level fails), reads them back, renames the room, moves the node
// in and out -> shares the node with Bob as secondary -> Bob lists his received requests and
// accepts -> Bob sees the node (not primary) and sets a param the device receives -> Bob cannot
// share, transfer or unshare it (107027) -> Alice removes Bob's sharing and Bob loses the node
// (and it leaves his own group) -> Carol declines a request and gets nothing -> Alice withdraws a
// request before Bob accepts it -> Alice transfers the node to Bob and stays secondary -> the
// groups are deleted -> everyone logs out.
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

import { ESPNodeSharingRequest, ESPRMBase, ESPRMGroup, ESPRMNode } from "@espressif/rainmaker-base-sdk";

import {
    check, checkEqual, checkGroup, claimAndRunNodeSteps, configureSdkStep, expectFailure, expectPowerSetReaches,
    expectStaleSetIgnored, finish, importSdkModule, listedNode, makeActors, mapNodeBySecret, need, newAccount,
    nodeSharingInfo, paramValue, requireEnv, signUpActorsSteps, simulatorPrereqsStep, state, step,
    stopNodeAndLogOutStep, waitForListedNode,
} from "./support.mjs";

// Loaded from the SDK's own dist directory (the same module instance index.js uses, so it shares
// the configured base URL and the stored tokens): NodeMappingHelper, the secret-key mapping calls
// (PUT/GET /v1/user/nodes/mapping) the SDK's provisioning flow uses but the package does not
// export. (GET /v1/user/nodes/sharing, which no SDK method calls, is support.mjs nodeSharingInfo.)
const { NodeMappingHelper } = await importSdkModule("./services/ESPRMHelpers/NodeMappingHelper.js");

const {
    RM_BASE_URL: baseUrl, RM_MAILBOX: mailboxDir, RM_MQTT_PORT: mqttPort, RM_CA_FILE: caFile, RM_SIM: simBin,
} = requireEnv("sharing.test.mjs", ["RM_BASE_URL", "RM_MAILBOX", "RM_MQTT_PORT", "RM_CA_FILE", "RM_SIM"]);

// Error codes of the server (src/core/error_codes.def) this test expects.
const kNodeNotOwned = 100010;
const kShareMappingMissing = 107011;
const kShareRequestClosed = 107023;
const kShareRequestDeclined = 107025;
const kShareNotPrimary = 107027;
const kSubGroupDepth = 108011;
const kGroupNotFound = 108023;

// ---------------------------------------------------------------------------------------------
// Users: each with an account, the ESPRMUser from login and the saved SDK storage
// (support.mjs makeActors: users, as(who, fn)).

const actors = makeActors({
    alice: newAccount("sdk-share-alice"),
    bob: newAccount("sdk-share-bob"),
    carol: newAccount("sdk-share-carol"),
});
const { users, as } = actors;

// ---------------------------------------------------------------------------------------------
// Helpers over the SDK's node and group models (and support.mjs listedNode, waitForListedNode,
// nodeSharingInfo, checkSetAnswer, checkGroup).

// The request `id` among `who`'s received (or issued) node sharing requests.
async function findRequest(who, id, issued = false) {
    return as(who, async (user) => {
        const page = issued ? await user.getIssuedNodeSharingRequests() : await user.getReceivedNodeSharingRequests();
        check(Array.isArray(page.sharedRequests), `sharedRequests is not an array: ${JSON.stringify(page)}`);
        const found = page.sharedRequests.find((r) => r.id === id);
        if (found !== undefined) {
            check(found instanceof ESPNodeSharingRequest, "the request is not an ESPNodeSharingRequest");
        }
        return found;
    });
}

function checkRequest(request, expected, what) {
    check(request !== undefined, `${what}: the request is not listed`);
    checkEqual(request.status, expected.status, `${what}: status (request_status)`);
    checkEqual(request.nodeIDs, [state.nodeId], `${what}: nodeIDs (node_ids)`);
    checkEqual(request.username, expected.to, `${what}: username (user_name, the receiver)`);
    checkEqual(request.primaryUsername, expected.from, `${what}: primaryUsername (primary_user_name, the sender)`);
    check(Number.isInteger(request.timestamp) && request.timestamp > 0,
        `${what}: timestamp (request_timestamp) ${JSON.stringify(request.timestamp)}`);
    if (expected.transfer) {
        checkEqual(request.transfer, true, `${what}: transfer`);
        checkEqual(request.newRole, expected.newRole, `${what}: newRole (new_role)`);
    } else {
        check(request.transfer === undefined || request.transfer === false, `${what}: transfer ${request.transfer}`);
    }
}

// ---------------------------------------------------------------------------------------------
// Set-up: three users, one node of Alice's.

const mappingSecret = randomUUID();

console.log(`# SDK ${ESPRMBase.currentVersion()} against ${baseUrl}, devices on 127.0.0.1:${mqttPort}, ` +
    `users ${users.alice.email}, ${users.bob.email}, ${users.carol.email}`);

await simulatorPrereqsStep({ simBin, caFile, mqttPort, prefix: "sharing-test-" });

await configureSdkStep(baseUrl);

await signUpActorsSteps(actors, mailboxDir);

await claimAndRunNodeSteps({ as, owner: "alice", simBin, baseUrl, mqttPort, caFile, secret: mappingSecret });

await step("alice: the mapping is confirmed and user.getUserNodes() lists the node as primary", async () => {
    need("nodeId");
    await as("alice", () => mapNodeBySecret(NodeMappingHelper, state.nodeId, mappingSecret));
    const node = await waitForListedNode(as, "alice", state.nodeId);
    check(node instanceof ESPRMNode, "not an ESPRMNode");
    checkEqual(node.isPrimaryUser, true, "isPrimaryUser");
    checkEqual(node.nodeConfig?.info?.name, "Sim Light", "config info.name");
    state.aliceNode = node;
});

// ---------------------------------------------------------------------------------------------
// Groups (Alice).

await step("alice: user.createGroup({name: \"Home\", nodeIds, type, description, metadata}) -> POST /v1/user/node_group", async () => {
    need("aliceNode");
    const home = await as("alice", (user) => user.createGroup({
        name: "Home", nodeIds: [state.nodeId], type: "home", description: "SDK test home", metadata: { floors: 2 },
    }));
    checkGroup(home, { name: "Home", nodes: [state.nodeId], totalNodes: 1, isPrimaryUser: true }, "createGroup");
    check(typeof home.id === "string" && home.id.length > 0, `group id ${JSON.stringify(home.id)}`);
    state.home = home;
});

await step("alice: home.createSubGroup({name: \"Living Room\", nodeIds, type: \"room\"}) -> second level", async () => {
    need("home");
    const room = await as("alice", () => state.home.createSubGroup({
        name: "Living Room", nodeIds: [state.nodeId], type: "room",
    }));
    checkGroup(room, { name: "Living Room", parentGroupId: state.home.id, nodes: [state.nodeId] }, "createSubGroup");
    check(typeof room.id === "string" && room.id.length > 0 && room.id !== state.home.id, `room id ${room.id}`);
    state.room = room;
});

await step("alice: room.createSubGroup({name: \"Reading Corner\"}) -> third level; a fourth level fails with 108011", async () => {
    need("room");
    const corner = await as("alice", () => state.room.createSubGroup({ name: "Reading Corner" }));
    checkGroup(corner, { name: "Reading Corner", parentGroupId: state.room.id }, "createSubGroup (level 3)");
    state.corner = corner;
    await as("alice", () => expectFailure(() => corner.createSubGroup({ name: "Too Deep" }), kSubGroupDepth,
        "createSubGroup (level 4)"));
});

await step("alice: user.getGroups({withNodeList, withSubGroups}) reads the tree back", async () => {
    need("corner");
    const page = await as("alice", (user) => user.getGroups({ withNodeList: true, withSubGroups: true }));
    checkEqual(page.hasNext, false, "hasNext");
    checkEqual(page.groups.map((g) => g.id), [state.home.id], "top-level groups");
    const [home] = page.groups;
    checkGroup(home, {
        name: "Home", isPrimaryUser: true, totalNodes: 1, nodes: [state.nodeId], type: "home",
        description: "SDK test home", metadata: { floors: 2 }, mutuallyExclusive: false,
    }, "Home");
    check(home.parentGroupId === undefined, `Home parentGroupId ${home.parentGroupId}`);
    checkEqual(home.subGroups?.map((g) => g.id), [state.room.id], "Home sub-groups");
    const [room] = home.subGroups;
    checkGroup(room, {
        name: "Living Room", parentGroupId: state.home.id, totalNodes: 1, nodes: [state.nodeId], type: "room",
    }, "Living Room");
    checkEqual(room.subGroups?.map((g) => g.id), [state.corner.id], "Living Room sub-groups");
    checkGroup(room.subGroups[0], {
        name: "Reading Corner", parentGroupId: state.room.id, totalNodes: 0, nodes: [],
    }, "Reading Corner");
});

await step("alice: user.getGroupById({id, withNodeDetails}) gives the node with config and status", async () => {
    need("home");
    const home = await as("alice", (user) => user.getGroupById({ id: state.home.id, withNodeDetails: true }));
    checkGroup(home, { id: state.home.id, name: "Home", totalNodes: 1 }, "getGroupById");
    checkEqual(home.nodeDetails?.map((n) => n.id), [state.nodeId], "nodeDetails ids");
    const [node] = home.nodeDetails;
    check(node instanceof ESPRMNode, "nodeDetails[0] is not an ESPRMNode");
    checkEqual(node.isPrimaryUser, true, "nodeDetails[0].isPrimaryUser");
    checkEqual(node.connectivityStatus?.isConnected, true, "nodeDetails[0] connected");
    checkEqual(node.nodeConfig?.info?.name, "Sim Light", "nodeDetails[0] config info.name");
});

await step("alice: group.getNodesList(), getSubGroups(), getNodesWithDetails()", async () => {
    need("room");
    await as("alice", async () => {
        checkEqual(await state.home.getNodesList(), [state.nodeId], "home.getNodesList()");
        const subGroups = await state.home.getSubGroups();
        checkEqual(subGroups.map((g) => g.id), [state.room.id], "home.getSubGroups() ids");
        check(subGroups[0] instanceof ESPRMGroup, "getSubGroups() entries are not ESPRMGroups");
        checkEqual(subGroups[0].name, "Living Room", "home.getSubGroups()[0].name");
        const nodes = await state.room.getNodesWithDetails();
        checkEqual(nodes.map((n) => n.id), [state.nodeId], "room.getNodesWithDetails() ids");
        check(nodes[0] instanceof ESPRMNode, "getNodesWithDetails() entries are not ESPRMNodes");
        checkEqual(paramValue(nodes[0], "Light", "Power"), false, "room.getNodesWithDetails() Light.Power");
    });
});

await step("alice: room.updateGroupInfo({groupName: \"Lounge\", description}) renames it", async () => {
    need("room");
    await as("alice", async (user) => {
        const answer = await state.room.updateGroupInfo({ groupName: "Lounge", description: "renamed by the SDK" });
        checkEqual(answer?.status, "success", "updateGroupInfo status");
        const room = await user.getGroupById({ id: state.room.id, withNodeList: true });
        checkGroup(room, {
            name: "Lounge", description: "renamed by the SDK", parentGroupId: state.home.id, type: "room",
            nodes: [state.nodeId],
        }, "the room read back");
        const home = await user.getGroupById({ id: state.home.id, withSubGroups: true });
        checkEqual(home.subGroups?.map((g) => g.name), ["Lounge"], "Home sub-group names");
        checkEqual(home.name, "Home", "Home keeps its name");
    });
});

await step("alice: group.addNodes / removeNodes (PUT ?group_id= operation add|remove); removal goes down the tree", async () => {
    need("corner");
    await as("alice", async () => {
        checkEqual((await state.corner.addNodes([state.nodeId]))?.status, "success", "corner.addNodes status");
        checkEqual(await state.corner.getNodesList(), [state.nodeId], "corner nodes after addNodes");
        checkEqual((await state.room.removeNodes([state.nodeId]))?.status, "success", "room.removeNodes status");
        checkEqual(await state.room.getNodesList(), [], "room nodes after removeNodes");
        checkEqual(await state.corner.getNodesList(), [], "corner nodes after the room's removeNodes");
        checkEqual(await state.home.getNodesList(), [state.nodeId], "home nodes (unchanged)");
        checkEqual((await state.room.addNodes([state.nodeId]))?.status, "success", "room.addNodes status");
        checkEqual(await state.room.getNodesList(), [state.nodeId], "room nodes after addNodes");
    });
});

await step("bob: user.getGroups() is empty and Alice's group does not exist for him (108023)", async () => {
    need("bob", "home");
    await as("bob", async (user) => {
        checkEqual((await user.getGroups({})).groups, [], "bob's groups");
        await expectFailure(() => user.getGroupById({ id: state.home.id }), kGroupNotFound, "getGroupById(Alice's home)");
    });
});

// ---------------------------------------------------------------------------------------------
// Sharing with Bob.

await step("alice: node.shareWith({username: bob}) -> PUT /v1/user/nodes/sharing answers a request id", async () => {
    need("aliceNode", "bob");
    const id = await as("alice", () => state.aliceNode.shareWith({ username: users.bob.email }));
    check(typeof id === "string" && id.length > 0, `request id ${JSON.stringify(id)}`);
    state.bobRequestId = id;
});

await step("alice: user.getIssuedNodeSharingRequests() lists it pending", async () => {
    need("bobRequestId");
    const request = await findRequest("alice", state.bobRequestId, true);
    checkRequest(request, { status: "pending", to: users.bob.email, from: users.alice.email }, "issued request");
});

await step("bob: before accepting, the node is not his", async () => {
    need("bobRequestId");
    checkEqual(await listedNode(as, "bob", state.nodeId), undefined, "the node in bob's getUserNodes()");
    await as("bob", (user) => expectFailure(() => user.getNodeDetails(state.nodeId), kNodeNotOwned, "getNodeDetails"));
});

await step("bob: user.getReceivedNodeSharingRequests() lists it; request.accept() -> PUT .../sharing/requests {accept: true}", async () => {
    need("bobRequestId");
    const request = await findRequest("bob", state.bobRequestId);
    checkRequest(request, { status: "pending", to: users.bob.email, from: users.alice.email }, "received request");
    checkEqual((await as("bob", () => request.accept()))?.status, "success", "accept() status");
    state.bobRequest = request;
});

await step("bob: the request is now accepted; accepting it again fails with 107023", async () => {
    need("bobRequest");
    const request = await findRequest("bob", state.bobRequestId);
    checkRequest(request, { status: "accepted", to: users.bob.email, from: users.alice.email }, "received request");
    await as("bob", () => expectFailure(() => state.bobRequest.accept(), kShareRequestClosed, "a second accept()"));
});

await step("bob: user.getUserNodes() lists the node, not as primary, with config and params", async () => {
    need("bobRequest");
    const node = await waitForListedNode(as, "bob", state.nodeId);
    checkEqual(node.isPrimaryUser, false, "isPrimaryUser");
    checkEqual(node.nodeConfig?.info?.name, "Sim Light", "config info.name");
    check(node.availableTransports?.cloud !== undefined, "the SDK offers bob no cloud transport");
    const details = await as("bob", (user) => user.getNodeDetails(state.nodeId));
    checkEqual(details.isPrimaryUser, false, "getNodeDetails isPrimaryUser");
    state.bobNode = node;
});

await step("bob: param.setValue(true) on Light.Power reaches the device; Alice reads it back", async () => {
    need("bobNode", "sim");
    await expectPowerSetReaches(as, { who: "bob", node: state.bobNode, reader: "alice", nodeId: state.nodeId });
});

await step("bob: shareWith, transferNode and removeSharingFor on the shared node fail with 107027", async () => {
    need("bobNode", "carol");
    await as("bob", async () => {
        await expectFailure(() => state.bobNode.shareWith({ username: users.carol.email }), kShareNotPrimary,
            "bob's shareWith(carol)");
        await expectFailure(() => state.bobNode.transferNode({ toUserName: users.carol.email }), kShareNotPrimary,
            "bob's transferNode(carol)");
        await expectFailure(() => state.bobNode.removeSharingFor(users.alice.email), kShareNotPrimary,
            "bob's removeSharingFor(alice)");
    });
    checkEqual(await listedNode(as, "carol", state.nodeId), undefined, "the node in carol's getUserNodes()");
});

await step("GET /v1/user/nodes/sharing (SDK authorized request): alice sees bob as secondary, bob sees only the primary", async () => {
    need("bobNode");
    const alice = await nodeSharingInfo(as, "alice", state.nodeId);
    checkEqual(alice.users, { primary: [users.alice.email], secondary: [users.bob.email] }, "alice's view");
    const bob = await nodeSharingInfo(as, "bob", state.nodeId);
    checkEqual(bob.users, { primary: [users.alice.email] }, "bob's view");
    checkEqual(bob.sources, ["NODE"], "bob's view: sources");
});

await step("bob: user.createGroup with the shared node (a secondary may group his nodes)", async () => {
    need("bobNode");
    const group = await as("bob", (user) => user.createGroup({ name: "Shared Room", nodeIds: [state.nodeId] }));
    checkGroup(group, { name: "Shared Room", nodes: [state.nodeId] }, "bob's createGroup");
    checkEqual(await as("bob", () => group.getNodesList()), [state.nodeId], "bob's group nodes");
    state.bobGroup = group;
});

await step("alice: node.removeSharingFor(bob) -> DELETE /v1/user/nodes/sharing?nodes=&user_name=", async () => {
    need("bobNode");
    checkEqual((await as("alice", () => state.aliceNode.removeSharingFor(users.bob.email)))?.status, "success",
        "removeSharingFor status");
    state.bobRemoved = true;
});

await step("bob: the node is gone (list, details, his group) and his stale set reaches nothing", async () => {
    need("bobRemoved", "sim");
    checkEqual(await listedNode(as, "bob", state.nodeId), undefined, "the node in bob's getUserNodes()");
    await as("bob", (user) => expectFailure(() => user.getNodeDetails(state.nodeId), kNodeNotOwned, "getNodeDetails"));
    if (state.bobGroup !== undefined) {
        checkEqual(await as("bob", () => state.bobGroup.getNodesList()), [], "bob's group nodes");
    }
    await expectStaleSetIgnored(as, {
        who: "bob", staleNode: state.bobNode, owner: "alice", ownerNode: state.aliceNode, nodeId: state.nodeId,
    });
});

await step("alice: no secondary left; removing bob again fails with 107011; her groups keep the node", async () => {
    need("bobRemoved");
    checkEqual((await nodeSharingInfo(as, "alice", state.nodeId)).users, { primary: [users.alice.email], secondary: [] },
        "alice's view");
    await as("alice", async () => {
        await expectFailure(() => state.aliceNode.removeSharingFor(users.bob.email), kShareMappingMissing,
            "a second removeSharingFor(bob)");
        checkEqual(await state.home.getNodesList(), [state.nodeId], "home nodes");
        checkEqual(await state.room.getNodesList(), [state.nodeId], "room nodes");
    });
});

// ---------------------------------------------------------------------------------------------
// A declined request, a withdrawn request.

await step("carol: request.decline() -> {accept: false}; she gets nothing", async () => {
    need("aliceNode", "carol");
    const id = await as("alice", () => state.aliceNode.shareWith({ username: users.carol.email }));
    const request = await findRequest("carol", id);
    checkRequest(request, { status: "pending", to: users.carol.email, from: users.alice.email }, "carol's request");
    checkEqual((await as("carol", () => request.decline()))?.status, "success", "decline() status");
    checkRequest(await findRequest("carol", id), { status: "declined", to: users.carol.email, from: users.alice.email },
        "carol's request after decline()");
    checkRequest(await findRequest("alice", id, true), { status: "declined", to: users.carol.email, from: users.alice.email },
        "alice's issued request");
    checkEqual(await listedNode(as, "carol", state.nodeId), undefined, "the node in carol's getUserNodes()");
    await as("carol", (user) => expectFailure(() => user.getNodeDetails(state.nodeId), kNodeNotOwned, "carol's getNodeDetails"));
    await as("carol", () => expectFailure(() => request.accept(), kShareRequestClosed, "accept() after decline()"));
    const issued = await findRequest("alice", id, true);
    await as("alice", () => expectFailure(() => issued.remove(), kShareRequestDeclined, "alice's remove() of the declined request"));
    const secondaries = (await nodeSharingInfo(as, "alice", state.nodeId)).users.secondary;
    check(!secondaries.includes(users.carol.email), `carol is among alice's secondaries: ${JSON.stringify(secondaries)}`);
});

await step("alice: request.remove() -> DELETE .../sharing/requests?request_id= withdraws it before bob accepts", async () => {
    need("aliceNode", "bobRemoved");
    const id = await as("alice", () => state.aliceNode.shareWith({ username: users.bob.email }));
    const received = await findRequest("bob", id);
    checkRequest(received, { status: "pending", to: users.bob.email, from: users.alice.email }, "bob's request");
    const issued = await findRequest("alice", id, true);
    checkEqual((await as("alice", () => issued.remove()))?.status, "success", "remove() status");
    checkEqual(await findRequest("alice", id, true), undefined, "the withdrawn request among alice's issued ones");
    checkEqual(await findRequest("bob", id), undefined, "the withdrawn request among bob's received ones");
    await as("bob", () => expectFailure(() => received.accept(), kShareRequestClosed, "bob's accept() of the withdrawn request"));
    checkEqual(await listedNode(as, "bob", state.nodeId), undefined, "the node in bob's getUserNodes()");
});

// ---------------------------------------------------------------------------------------------
// Transfer.

await step("alice: node.transferNode({toUserName: bob, selfToSecondary: true}); bob accepts and becomes primary", async () => {
    need("aliceNode", "bobRemoved");
    const id = await as("alice", () => state.aliceNode.transferNode({ toUserName: users.bob.email, selfToSecondary: true }));
    check(typeof id === "string" && id.length > 0, `request id ${JSON.stringify(id)}`);
    const request = await findRequest("bob", id);
    checkRequest(request, {
        status: "pending", to: users.bob.email, from: users.alice.email, transfer: true, newRole: "secondary",
    }, "bob's transfer request");
    checkEqual((await as("bob", () => request.accept()))?.status, "success", "accept() status");
    const bobNode = await waitForListedNode(as, "bob", state.nodeId);
    checkEqual(bobNode.isPrimaryUser, true, "bob's isPrimaryUser");
    const aliceNode = await listedNode(as, "alice", state.nodeId);
    check(aliceNode !== undefined, "alice lost the node instead of staying secondary");
    checkEqual(aliceNode.isPrimaryUser, false, "alice's isPrimaryUser");
    checkEqual((await nodeSharingInfo(as, "bob", state.nodeId)).users,
        { primary: [users.bob.email], secondary: [users.alice.email] }, "bob's view");
    await as("alice", () => expectFailure(() => aliceNode.shareWith({ username: users.carol.email }), kShareNotPrimary,
        "alice's shareWith(carol) as secondary"));
    state.bobNode = bobNode;
    state.transferred = true;
});

await step("bob: node.removeSharingFor(alice) takes the node out of Alice's account and groups", async () => {
    need("transferred");
    checkEqual((await as("bob", () => state.bobNode.removeSharingFor(users.alice.email)))?.status, "success",
        "removeSharingFor status");
    checkEqual(await listedNode(as, "alice", state.nodeId), undefined, "the node in alice's getUserNodes()");
    await as("alice", async () => {
        checkEqual(await state.home.getNodesList(), [], "home nodes");
        checkEqual(await state.room.getNodesList(), [], "room nodes");
    });
    checkEqual((await nodeSharingInfo(as, "bob", state.nodeId)).users, { primary: [users.bob.email], secondary: [] },
        "bob's view");
});

// ---------------------------------------------------------------------------------------------
// Clean-up through the SDK.

await step("alice: group.delete() of the level-3 group, then of Home (its sub-groups go with it)", async () => {
    need("home", "corner");
    await as("alice", async (user) => {
        checkEqual((await state.corner.delete())?.status, "success", "corner.delete() status");
        const room = await user.getGroupById({ id: state.room.id, withSubGroups: true });
        checkEqual(room.subGroups, [], "the room's sub-groups");
        checkEqual((await state.home.delete())?.status, "success", "home.delete() status");
        checkEqual((await user.getGroups({})).groups, [], "alice's groups");
        await expectFailure(() => user.getGroupById({ id: state.room.id }), kGroupNotFound, "getGroupById(room)");
    });
    if (state.bobGroup !== undefined) {
        checkEqual((await as("bob", () => state.bobGroup.delete()))?.status, "success", "bob's group delete() status");
    }
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
