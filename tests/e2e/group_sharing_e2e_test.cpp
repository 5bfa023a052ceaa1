// Group sharing end to end with the real server, its Mosquitto and the simulator: a home with a
// room shared with other users, the nodes it gives them (and only while it is shared), what a
// secondary or a co-owner may do with it, leaving, removing, deleting and transferring it, and
// the documented bad inputs.
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "support/accounts.hpp"
#include "support/devices.hpp"
#include "support/http_client.hpp"
#include "support/mosquitto_clients.hpp"
#include "support/server_process.hpp"
#include "support/sim_process.hpp"
#include "support/temp_dir.hpp"

namespace rainmaker::testing {
namespace {

using boost::json::array;
using boost::json::object;

class GroupSharingTest : public ::testing::Test, protected DeviceLab {
protected:
    GroupSharingTest()
        : DeviceLab(server_, client_, dir_),
          server_(),
          client_(server_.port()),
          alice_(SignUpAndLogin(client_, server_, "alice@example.com")),
          bob_(SignUpAndLogin(client_, server_, "bob@example.com")),
          carol_(SignUpAndLogin(client_, server_, "carol@example.com")) {}

    using DeviceLab::Run;  // not ::testing::Test::Run

    // Alice's home (two nodes) with a room (the first node); both nodes run mapped.
    void BuildHome() {
        d1_ = Claim(alice_, "n1");
        d2_ = Claim(alice_, "n2");
        s1_ = RunMapped(alice_, d1_);
        s2_ = RunMapped(alice_, d2_);
        const auto home = client_.Post(
            "/v1/user/node_group",
            object{{"group_name", "Home"}, {"nodes", JsonStrings({d1_.node_id, d2_.node_id})}},
            alice_.accesstoken
        );
        ASSERT_EQ(home.status, 200) << home.body;
        home_ = home.Str("group_id");
        const auto room = client_.Post(
            "/v1/user/node_group",
            object{
                {"group_name", "Room"},
                {"parent_group_id", home_},
                {"nodes", JsonStrings({d1_.node_id})}},
            alice_.accesstoken
        );
        ASSERT_EQ(room.status, 200) << room.body;
        room_ = room.Str("group_id");
    }

    HttpResult Share(const Tokens& t, object body) {
        return client_.Put("/v1/user/node_group/sharing", body, t.accesstoken);
    }

    HttpResult Respond(const Tokens& t, const std::string& id, bool accept) {
        return client_.Put(
            "/v1/user/node_group/sharing/requests",
            object{{"request_id", id}, {"accept", accept}},
            t.accesstoken
        );
    }

    // Shares the home with `user` in `role` and has them accept.
    void ShareHome(const Tokens& to, const std::string& user, bool primary) {
        const auto r = Share(
            alice_, {{"groups", JsonStrings({home_})}, {"user_name", user}, {"primary", primary}}
        );
        ASSERT_EQ(r.status, 200) << r.body;
        ASSERT_EQ(Respond(to, r.Str("request_id"), true).status, 200);
    }

    int Nodes(const Tokens& t) {
        return static_cast<int>(
            client_.Get("/v1/user/nodes", t.accesstoken).json.at("total").as_int64()
        );
    }

    int Groups(const Tokens& t) {
        return static_cast<int>(
            client_.Get("/v1/user/node_group", t.accesstoken).json.at("total").as_int64()
        );
    }

    bool Primary(const Tokens& t, const std::string& node_id) {
        const auto r = client_.Get("/v1/user/nodes?node_id=" + node_id, t.accesstoken);
        return r.json.at("node_details").at(0).at("primary").as_bool();
    }

    ServerProcess server_;
    HttpClient client_;
    TempDir dir_;
    Tokens alice_;
    Tokens bob_;
    Tokens carol_;
    Device d1_;
    Device d2_;
    std::unique_ptr<SimProcess> s1_;
    std::unique_ptr<SimProcess> s2_;
    std::string home_;
    std::string room_;
};

TEST_F(GroupSharingTest, SharedHomeGivesEveryNodeToTheSecondaryWhileItIsShared) {
    BuildHome();
    const auto shared = Share(
        alice_,
        {{"groups", JsonStrings({home_})},
         {"user_name", "bob@example.com"},
         {"metadata", object{{"note", "welcome"}}}}
    );
    ASSERT_EQ(shared.status, 200) << shared.body;
    EXPECT_EQ(Nodes(bob_), 0);  // pending: nothing yet
    const auto received = client_.Get("/v1/user/node_group/sharing/requests", bob_.accesstoken);
    ASSERT_EQ(received.status, 200) << received.body;
    const auto& request = received.json.at("sharing_requests").at(0);
    EXPECT_EQ(request.at("request_status"), "pending");
    EXPECT_EQ(request.at("group_ids"), JsonStrings({home_}));
    EXPECT_EQ(request.at("group_names"), JsonStrings({"Home"}));
    EXPECT_EQ(request.at("primary_user_name"), "alice@example.com");
    // Node sharing requests and group sharing requests are separate lists.
    EXPECT_TRUE(client_.Get("/v1/user/nodes/sharing/requests", bob_.accesstoken)
                    .json.at("sharing_requests")
                    .as_array()
                    .empty());
    EXPECT_TRUE(IsFailure(Respond(carol_, shared.Str("request_id"), true), 400, 108037));
    ASSERT_EQ(Respond(bob_, shared.Str("request_id"), true).status, 200);

    // Bob has both nodes as secondary and sees the home with its room.
    EXPECT_EQ(Nodes(bob_), 2);
    EXPECT_FALSE(Primary(bob_, d1_.node_id));
    const auto groups = client_.Get("/v1/user/node_group?sub_groups=true", bob_.accesstoken);
    ASSERT_EQ(groups.json.at("groups").as_array().size(), 1u) << groups.body;
    EXPECT_EQ(groups.json.at("groups").at(0).at("primary"), false);
    EXPECT_EQ(groups.json.at("groups").at(0).at("sub_groups").at(0).at("group_name"), "Room");
    ASSERT_EQ(
        client_
            .Put(
                "/v1/user/nodes/params?node_id=" + d1_.node_id,
                object{{"Light", object{{"Power", true}}}},
                bob_.accesstoken
            )
            .status,
        200
    );
    EXPECT_EQ(s1_->WaitFor("params/remote"), R"(params/remote {"Light":{"Power":true}})");
    const auto sources =
        client_.Get("/v1/user/nodes/sharing?node_id=" + d1_.node_id, bob_.accesstoken);
    EXPECT_EQ(sources.json.at("node_sharing").at(0).at("sources"), JsonStrings({home_}))
        << sources.body;

    // What a secondary may not do with the home or its nodes.
    EXPECT_TRUE(IsFailure(
        client_.Put(
            "/v1/user/node_group?group_id=" + home_,
            object{{"group_name", "Mine"}},
            bob_.accesstoken
        ),
        400,
        108056
    ));
    EXPECT_TRUE(IsFailure(
        Share(bob_, {{"groups", JsonStrings({home_})}, {"user_name", "carol@example.com"}}),
        400,
        108041
    ));
    EXPECT_TRUE(IsFailure(
        client_.Put(
            "/v1/user/nodes/mapping",
            object{{"node_id", d1_.node_id}, {"operation", "remove"}},
            bob_.accesstoken
        ),
        400,
        107028
    ));
    EXPECT_TRUE(IsFailure(
        client_.Delete(
            "/v1/user/nodes/sharing?nodes=" + d1_.node_id + "&user_name=bob@example.com",
            alice_.accesstoken
        ),
        400,
        107028
    ));
    // Bob's room comes with the home: it cannot be unshared alone.
    EXPECT_TRUE(IsFailure(
        client_.Delete(
            "/v1/user/node_group/sharing?groups=" + room_ + "&user_name=bob@example.com",
            alice_.accesstoken
        ),
        400,
        108055
    ));

    // Sharing details: Alice sees Bob as secondary, Bob sees no secondaries.
    const auto as_alice = client_.Get(
        "/v1/user/node_group/sharing?group_id=" + home_ + "&metadata=true", alice_.accesstoken
    );
    ASSERT_EQ(as_alice.status, 200) << as_alice.body;
    EXPECT_EQ(
        as_alice.json.at("group_sharing").at(0).at("users").at("primary"),
        JsonStrings({"alice@example.com"})
    );
    EXPECT_EQ(
        as_alice.json.at("group_sharing").at(0).at("users").at("secondary"),
        JsonStrings({"bob@example.com"})
    );
    EXPECT_EQ(
        as_alice.json.at("group_sharing")
            .at(0)
            .at("users")
            .at("secondary_metadata")
            .at(0)
            .at("metadata")
            .at("note"),
        "welcome"
    ) << as_alice.body;
    const auto as_bob = client_.Get(
        "/v1/user/node_group/sharing?group_id=" + home_ + "&sub_groups=true", bob_.accesstoken
    );
    ASSERT_EQ(as_bob.json.at("group_sharing").as_array().size(), 1u) << as_bob.body;
    const auto& bob_view = as_bob.json.at("group_sharing").at(0);
    EXPECT_FALSE(bob_view.at("users").as_object().contains("secondary"));
    EXPECT_EQ(bob_view.at("sub_groups").at(0).at("group_id"), boost::json::value(room_));
    const auto parents = client_.Get(
        "/v1/user/node_group/sharing?group_id=" + room_ + "&parent_groups=true", bob_.accesstoken
    );
    EXPECT_EQ(
        parents.json.at("group_sharing").at(0).at("parent_groups").at(0).at("group_id"),
        boost::json::value(home_)
    ) << parents.body;

    // The home's node list drives Bob's access: out of the home, out of Bob's reach.
    ASSERT_EQ(
        client_
            .Put(
                "/v1/user/node_group?group_id=" + home_,
                object{{"operation", "remove"}, {"nodes", JsonStrings({d2_.node_id})}},
                alice_.accesstoken
            )
            .status,
        200
    );
    EXPECT_EQ(Nodes(bob_), 1);
    EXPECT_TRUE(IsFailure(
        client_.Get("/v1/user/nodes/params?node_id=" + d2_.node_id, bob_.accesstoken), 400, 100010
    ));
    ASSERT_EQ(
        client_
            .Put(
                "/v1/user/node_group?group_id=" + home_,
                object{{"operation", "add"}, {"nodes", JsonStrings({d2_.node_id})}},
                alice_.accesstoken
            )
            .status,
        200
    );
    EXPECT_EQ(Nodes(bob_), 2);

    const auto events = RunProgram(server_.QueryCommand(
        "SELECT COUNT(*) FROM events WHERE event_type = 'user_node_group_sharing_add'"
    ));
    EXPECT_EQ(events.output, "1\n");

    // Removing the sharing takes the home and its nodes away at once.
    ASSERT_EQ(
        client_
            .Delete(
                "/v1/user/node_group/sharing?groups=" + home_ + "&user_name=bob@example.com",
                alice_.accesstoken
            )
            .status,
        200
    );
    EXPECT_EQ(Nodes(bob_), 0);
    EXPECT_EQ(Groups(bob_), 0);
    EXPECT_TRUE(IsFailure(
        client_.Get("/v1/user/node_group?group_id=" + home_, bob_.accesstoken), 400, 108023
    ));
    EXPECT_EQ(Nodes(alice_), 2);
}

TEST_F(GroupSharingTest, LeavingRemovingAndDeletingTakeAccessAway) {
    BuildHome();
    // The owner alone cannot leave.
    EXPECT_TRUE(IsFailure(
        client_.Delete("/v1/user/node_group?group_id=" + home_ + "&leave=true", alice_.accesstoken),
        400,
        108142
    ));
    ShareHome(bob_, "bob@example.com", false);
    ShareHome(carol_, "carol@example.com", true);
    EXPECT_TRUE(Primary(carol_, d1_.node_id));
    EXPECT_EQ(
        client_.Get("/v1/user/node_group?group_id=" + home_, carol_.accesstoken)
            .json.at("groups")
            .at(0)
            .at("primary"),
        true
    );
    // A co-owner sees the secondaries and removes one; a secondary cannot remove anyone.
    EXPECT_TRUE(IsFailure(
        client_.Delete(
            "/v1/user/node_group?group_id=" + home_ +
                "&remove_sharing=true&user_name=carol@example.com",
            bob_.accesstoken
        ),
        400,
        108138
    ));
    const auto details =
        client_.Get("/v1/user/node_group/sharing?group_id=" + home_, carol_.accesstoken);
    EXPECT_EQ(
        details.json.at("group_sharing").at(0).at("users").at("secondary"),
        JsonStrings({"bob@example.com"})
    );
    ASSERT_EQ(
        client_
            .Delete(
                "/v1/user/node_group?group_id=" + home_ +
                    "&remove_sharing=true&user_name=bob@example.com",
                carol_.accesstoken
            )
            .status,
        200
    );
    EXPECT_EQ(Nodes(bob_), 0);

    // Bob again, then he leaves (a secondary's DELETE leaves by default).
    ShareHome(bob_, "bob@example.com", false);
    EXPECT_EQ(Nodes(bob_), 2);
    ASSERT_EQ(
        client_.Delete("/v1/user/node_group?group_id=" + home_, bob_.accesstoken).status, 200
    );
    EXPECT_EQ(Nodes(bob_), 0);
    EXPECT_EQ(Nodes(alice_), 2);

    // A co-owner who is not the owner cannot delete the home; the owner can, and Carol loses
    // every node she had through it.
    EXPECT_TRUE(IsFailure(
        client_.Delete("/v1/user/node_group?group_id=" + home_, carol_.accesstoken), 400, 108056
    ));
    ASSERT_EQ(
        client_.Delete("/v1/user/node_group?group_id=" + home_, alice_.accesstoken).status, 200
    );
    EXPECT_EQ(Nodes(carol_), 0);
    EXPECT_EQ(Groups(carol_), 0);
    EXPECT_EQ(Nodes(alice_), 2);
}

TEST_F(GroupSharingTest, OwnerLeavingHandsTheHomeToTheOldestCoOwner) {
    BuildHome();
    ShareHome(carol_, "carol@example.com", true);
    ShareHome(bob_, "bob@example.com", false);
    ASSERT_EQ(
        client_.Delete("/v1/user/node_group?group_id=" + home_ + "&leave=true", alice_.accesstoken)
            .status,
        200
    );
    // Carol owns the home now: she renames it; Alice no longer sees it but keeps her nodes.
    ASSERT_EQ(
        client_
            .Put(
                "/v1/user/node_group?group_id=" + home_,
                object{{"group_name", "Carol's"}},
                carol_.accesstoken
            )
            .status,
        200
    );
    EXPECT_EQ(Groups(alice_), 0);
    EXPECT_EQ(Nodes(alice_), 2);
    EXPECT_TRUE(Primary(carol_, d1_.node_id));
    EXPECT_EQ(Nodes(bob_), 2);  // Bob's share is untouched
    const auto details =
        client_.Get("/v1/user/node_group/sharing?group_id=" + home_, carol_.accesstoken);
    EXPECT_EQ(
        details.json.at("group_sharing").at(0).at("users").at("primary"),
        JsonStrings({"carol@example.com"})
    );
}

TEST_F(GroupSharingTest, DeclinedWithdrawnAndTransferredRequests) {
    BuildHome();
    const auto declined =
        Share(alice_, {{"groups", JsonStrings({home_})}, {"user_name", "carol@example.com"}});
    ASSERT_EQ(Respond(carol_, declined.Str("request_id"), false).status, 200);
    EXPECT_EQ(Nodes(carol_), 0);
    EXPECT_TRUE(IsFailure(
        client_.Delete(
            "/v1/user/node_group/sharing/requests?request_id=" + declined.Str("request_id"),
            alice_.accesstoken
        ),
        400,
        108039
    ));
    const auto pending =
        Share(alice_, {{"groups", JsonStrings({home_})}, {"user_name", "bob@example.com"}});
    EXPECT_TRUE(IsFailure(
        client_.Delete(
            "/v1/user/node_group/sharing/requests?request_id=" + pending.Str("request_id"),
            bob_.accesstoken
        ),
        404,
        108040
    ));
    // A node sharing request id is not a group sharing request.
    EXPECT_TRUE(IsFailure(
        client_.Put(
            "/v1/user/nodes/sharing/requests",
            object{{"request_id", pending.Str("request_id")}, {"accept", true}},
            bob_.accesstoken
        ),
        400,
        107023
    ));
    ASSERT_EQ(
        client_
            .Delete(
                "/v1/user/node_group/sharing/requests?request_id=" + pending.Str("request_id"),
                alice_.accesstoken
            )
            .status,
        200
    );
    EXPECT_TRUE(IsFailure(Respond(bob_, pending.Str("request_id"), true), 400, 108037));
    EXPECT_EQ(Nodes(bob_), 0);

    // Transfer: Bob owns the home and its nodes; Alice stays as a secondary.
    const auto transfer = Share(
        alice_,
        {{"groups", JsonStrings({home_})},
         {"user_name", "bob@example.com"},
         {"transfer", true},
         {"new_role", "secondary"}}
    );
    ASSERT_EQ(transfer.status, 200) << transfer.body;
    ASSERT_EQ(Respond(bob_, transfer.Str("request_id"), true).status, 200);
    EXPECT_TRUE(Primary(bob_, d1_.node_id));
    EXPECT_FALSE(Primary(alice_, d1_.node_id));
    EXPECT_EQ(
        client_.Get("/v1/user/node_group?group_id=" + home_, alice_.accesstoken)
            .json.at("groups")
            .at(0)
            .at("primary"),
        false
    );
    EXPECT_TRUE(IsFailure(
        client_.Put(
            "/v1/user/node_group?group_id=" + home_,
            object{{"group_name", "Back"}},
            alice_.accesstoken
        ),
        400,
        108056
    ));
    // Alice's own removal of her (secondary) share is allowed and takes the nodes.
    ASSERT_EQ(
        client_
            .Delete(
                "/v1/user/node_group/sharing?groups=" + home_ + "&user_name=alice@example.com",
                alice_.accesstoken
            )
            .status,
        200
    );
    EXPECT_EQ(Nodes(alice_), 0);
    EXPECT_EQ(Nodes(bob_), 2);
}

TEST_F(GroupSharingTest, ANodeSharedDirectlyAndThroughAGroupKeepsWhatIsLeft) {
    BuildHome();
    const auto direct = client_.Put(
        "/v1/user/nodes/sharing/requests",
        object{{"nodes", JsonStrings({d1_.node_id})}, {"user_name", "bob@example.com"}},
        alice_.accesstoken
    );
    ASSERT_EQ(direct.status, 200) << direct.body;
    ASSERT_EQ(
        client_
            .Put(
                "/v1/user/nodes/sharing/requests",
                object{{"request_id", direct.Str("request_id")}, {"accept", true}},
                bob_.accesstoken
            )
            .status,
        200
    );
    ShareHome(bob_, "bob@example.com", false);
    const auto both =
        client_.Get("/v1/user/nodes/sharing?node_id=" + d1_.node_id, bob_.accesstoken);
    EXPECT_EQ(both.json.at("node_sharing").at(0).at("sources"), JsonStrings({"NODE", home_}))
        << both.body;
    // The node share goes; the home still gives the node.
    ASSERT_EQ(
        client_
            .Delete(
                "/v1/user/nodes/sharing?nodes=" + d1_.node_id + "&user_name=bob@example.com",
                alice_.accesstoken
            )
            .status,
        200
    );
    const auto left =
        client_.Get("/v1/user/nodes/sharing?node_id=" + d1_.node_id, bob_.accesstoken);
    EXPECT_EQ(left.json.at("node_sharing").at(0).at("sources"), JsonStrings({home_})) << left.body;
    // Leaving the home takes the rest.
    ASSERT_EQ(
        client_.Delete("/v1/user/node_group?group_id=" + home_ + "&leave=true", bob_.accesstoken)
            .status,
        200
    );
    EXPECT_EQ(Nodes(bob_), 0);
}

TEST_F(GroupSharingTest, AnOwnersDeletedAccountTakesTheSharedHomeAway) {
    BuildHome();
    ShareHome(bob_, "bob@example.com", false);
    ASSERT_EQ(Nodes(bob_), 2);
    ASSERT_EQ(client_.Delete("/v1/user2?request=true", alice_.accesstoken).status, 200);
    const auto deleted = client_.Delete(
        "/v1/user2?verification_code=" + server_.LatestCode("alice@example.com"), alice_.accesstoken
    );
    ASSERT_EQ(deleted.status, 200) << deleted.body;
    EXPECT_EQ(Nodes(bob_), 0);
    EXPECT_EQ(Groups(bob_), 0);
    EXPECT_TRUE(IsFailure(
        client_.Get("/v1/user/nodes/params?node_id=" + d1_.node_id, bob_.accesstoken), 400, 100010
    ));
}

TEST_F(GroupSharingTest, RequestListsPageWithTwoCursorsOneToTenAtATime) {
    BuildHome();
    // Three distinct requests (the same offer twice would be one request).
    for (const auto& [user, primary] :
         {std::pair{"bob@example.com", false},
          std::pair{"carol@example.com", false},
          std::pair{"bob@example.com", true}}) {
        ASSERT_EQ(
            Share(
                alice_,
                {{"groups", JsonStrings({home_})}, {"user_name", user}, {"primary", primary}}
            ).status,
            200
        );
    }
    const std::string sent = "/v1/user/node_group/sharing/requests?primary_user=true";
    const auto first = client_.Get(sent + "&num_records=2", alice_.accesstoken);
    ASSERT_EQ(first.json.at("sharing_requests").as_array().size(), 2u) << first.body;
    ASSERT_TRUE(first.json.as_object().contains("next_request_id")) << first.body;
    EXPECT_TRUE(first.json.as_object().contains("next_user_name"));
    const auto second = client_.Get(
        sent + "&num_records=2&start_request_id=" + first.Str("next_request_id") +
            "&start_user_name=" + first.Str("next_user_name"),
        alice_.accesstoken
    );
    ASSERT_EQ(second.json.at("sharing_requests").as_array().size(), 1u) << second.body;
    EXPECT_FALSE(second.json.as_object().contains("next_request_id"));
    // Outside 1..10 the default (10) applies.
    for (const char* n : {"0", "11", "x"}) {
        EXPECT_EQ(
            client_.Get(sent + "&num_records=" + n, alice_.accesstoken)
                .json.at("sharing_requests")
                .as_array()
                .size(),
            3u
        ) << n;
    }
    // Bob received two, Carol one.
    EXPECT_EQ(
        client_.Get("/v1/user/node_group/sharing/requests", bob_.accesstoken)
            .json.at("sharing_requests")
            .as_array()
            .size(),
        2u
    );
}

TEST_F(GroupSharingTest, ARoomSharedAloneGivesItsNodesAndShowsNothingOfItsHome) {
    BuildHome();
    const auto r =
        Share(alice_, {{"groups", JsonStrings({room_})}, {"user_name", "carol@example.com"}});
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_EQ(Respond(carol_, r.Str("request_id"), true).status, 200);
    EXPECT_EQ(Nodes(carol_), 1);  // the room's node, not the home's other one
    const auto groups = client_.Get("/v1/user/node_group", carol_.accesstoken);
    ASSERT_EQ(groups.json.at("groups").as_array().size(), 1u) << groups.body;
    EXPECT_EQ(groups.json.at("groups").at(0).at("group_id"), boost::json::value(room_));
    EXPECT_FALSE(groups.json.at("groups").at(0).as_object().contains("parent_group_id"));
    EXPECT_TRUE(IsFailure(
        client_.Get("/v1/user/node_group?group_id=" + home_, carol_.accesstoken), 400, 108023
    ));
    const auto sharing = client_.Get(
        "/v1/user/node_group/sharing?group_id=" + room_ + "&parent_groups=true", carol_.accesstoken
    );
    EXPECT_TRUE(sharing.json.at("group_sharing").at(0).at("parent_groups").as_array().empty())
        << sharing.body;
    // Who shares the home is not Carol's to know.
    ShareHome(bob_, "bob@example.com", false);
    const auto users =
        client_.Get("/v1/user/node_group/sharing?group_id=" + room_, carol_.accesstoken);
    EXPECT_EQ(
        users.json.at("group_sharing").at(0).at("users").at("primary"),
        JsonStrings({"alice@example.com"})
    ) << users.body;
    EXPECT_EQ(users.body.find("bob@example.com"), std::string::npos) << users.body;
    // Alice sees the room under its home as before.
    const auto own = client_.Get("/v1/user/node_group?group_id=" + room_, alice_.accesstoken);
    EXPECT_EQ(own.json.at("groups").at(0).at("parent_group_id"), boost::json::value(home_));
    ASSERT_EQ(
        client_.Delete("/v1/user/node_group?group_id=" + room_, carol_.accesstoken).status, 200
    );
    EXPECT_EQ(Nodes(carol_), 0);
}

TEST_F(GroupSharingTest, ATransferGivesOnlyWhatTheSenderHoldsWhenAccepted) {
    BuildHome();
    // Carol has the first node as a secondary (node sharing).
    const auto node_share = client_.Put(
        "/v1/user/nodes/sharing/requests",
        object{{"nodes", JsonStrings({d1_.node_id})}, {"user_name", "carol@example.com"}},
        alice_.accesstoken
    );
    ASSERT_EQ(
        client_
            .Put(
                "/v1/user/nodes/sharing/requests",
                object{{"request_id", node_share.Str("request_id")}, {"accept", true}},
                carol_.accesstoken
            )
            .status,
        200
    );
    // She offers an empty group of hers to Bob as a transfer, then puts the node in it.
    const auto group =
        client_.Post("/v1/user/node_group", object{{"group_name", "Carol's"}}, carol_.accesstoken);
    ASSERT_EQ(group.status, 200) << group.body;
    const std::string id = group.Str("group_id");
    const auto transfer = Share(
        carol_,
        {{"groups", JsonStrings({id})}, {"user_name", "bob@example.com"}, {"transfer", true}}
    );
    ASSERT_EQ(transfer.status, 200) << transfer.body;
    ASSERT_EQ(
        client_
            .Put(
                "/v1/user/node_group?group_id=" + id,
                object{{"operation", "add"}, {"nodes", JsonStrings({d1_.node_id})}},
                carol_.accesstoken
            )
            .status,
        200
    );
    // Accepting is checked again: Carol is not primary on the node, Bob gets nothing.
    EXPECT_TRUE(IsFailure(Respond(bob_, transfer.Str("request_id"), true), 400, 108052));
    EXPECT_EQ(Nodes(bob_), 0);
    EXPECT_TRUE(Primary(alice_, d1_.node_id));
    // A room is transferred only with its home.
    EXPECT_TRUE(IsFailure(
        Share(
            alice_,
            {{"groups", JsonStrings({room_})}, {"user_name", "bob@example.com"}, {"transfer", true}}
        ),
        400,
        108141
    ));
}

TEST_F(GroupSharingTest, AHandOverPassesOnOnlyWhatTheLeavingOwnerHoldsDirectly) {
    BuildHome();
    ShareHome(carol_, "carol@example.com", true);
    // Carol groups a node she has only through Alice's home and shares that group with Bob.
    const auto group = client_.Post(
        "/v1/user/node_group",
        object{{"group_name", "Carol's"}, {"nodes", JsonStrings({d1_.node_id})}},
        carol_.accesstoken
    );
    ASSERT_EQ(group.status, 200) << group.body;
    const std::string id = group.Str("group_id");
    const auto r = Share(
        carol_, {{"groups", JsonStrings({id})}, {"user_name", "bob@example.com"}, {"primary", true}}
    );
    ASSERT_EQ(Respond(bob_, r.Str("request_id"), true).status, 200);
    ASSERT_TRUE(Primary(bob_, d1_.node_id));
    // Bob already has a group of that name: he cannot take Carol's over.
    const auto clash =
        client_.Post("/v1/user/node_group", object{{"group_name", "Carol's"}}, bob_.accesstoken);
    ASSERT_EQ(clash.status, 200) << clash.body;
    EXPECT_TRUE(IsFailure(
        client_.Delete("/v1/user/node_group?group_id=" + id + "&leave=true", carol_.accesstoken),
        400,
        108007
    ));
    ASSERT_EQ(
        client_.Delete("/v1/user/node_group?group_id=" + clash.Str("group_id"), bob_.accesstoken)
            .status,
        200
    );
    // Carol leaves: Bob owns the group, but not the node Carol never held herself.
    ASSERT_EQ(
        client_.Delete("/v1/user/node_group?group_id=" + id + "&leave=true", carol_.accesstoken)
            .status,
        200
    );
    EXPECT_EQ(Nodes(bob_), 0);
    const auto taken =
        client_.Get("/v1/user/node_group?group_id=" + id + "&node_list=true", bob_.accesstoken);
    EXPECT_EQ(taken.json.at("groups").at(0).at("primary"), true) << taken.body;
    EXPECT_TRUE(taken.json.at("groups").at(0).at("nodes").as_array().empty()) << taken.body;
    EXPECT_TRUE(Primary(carol_, d1_.node_id));  // still through Alice's home
}

TEST_F(GroupSharingTest, ANodeTransferIsCheckedAgainWhenAccepted) {
    BuildHome();
    ShareHome(carol_, "carol@example.com", true);
    // Carol also holds the node directly, and offers it to Bob as a transfer.
    const auto direct = client_.Put(
        "/v1/user/nodes/sharing/requests",
        object{
            {"nodes", JsonStrings({d1_.node_id})},
            {"user_name", "carol@example.com"},
            {"primary", true}},
        alice_.accesstoken
    );
    ASSERT_EQ(direct.status, 200) << direct.body;  // applied at once: Carol has the node
    const auto transfer = client_.Put(
        "/v1/user/nodes/sharing/requests",
        object{
            {"nodes", JsonStrings({d1_.node_id})},
            {"user_name", "bob@example.com"},
            {"transfer", true}},
        carol_.accesstoken
    );
    ASSERT_EQ(transfer.status, 200) << transfer.body;
    // Alice takes the direct share back; Carol keeps the node only through the home.
    ASSERT_EQ(
        client_
            .Delete(
                "/v1/user/nodes/sharing?nodes=" + d1_.node_id + "&user_name=carol@example.com",
                alice_.accesstoken
            )
            .status,
        200
    );
    EXPECT_TRUE(IsFailure(
        client_.Put(
            "/v1/user/nodes/sharing/requests",
            object{{"request_id", transfer.Str("request_id")}, {"accept", true}},
            bob_.accesstoken
        ),
        400,
        107034
    ));
    EXPECT_EQ(Nodes(bob_), 0);

    // A transfer to a receiver who already has the node still waits for their acceptance.
    const auto to_carol = client_.Put(
        "/v1/user/nodes/sharing/requests",
        object{
            {"nodes", JsonStrings({d2_.node_id})},
            {"user_name", "carol@example.com"},
            {"transfer", true}},
        alice_.accesstoken
    );
    ASSERT_EQ(to_carol.status, 200) << to_carol.body;
    const auto state = client_.Get(
        "/v1/user/nodes/sharing/requests?request_id=" + to_carol.Str("request_id"),
        alice_.accesstoken
    );
    EXPECT_EQ(state.json.at("sharing_requests").at(0).at("request_status"), "pending");
    EXPECT_TRUE(Primary(alice_, d2_.node_id));
}

TEST_F(GroupSharingTest, ACoOwnerCannotDemoteAnotherByResharing) {
    BuildHome();
    ShareHome(carol_, "carol@example.com", true);
    // Carol offers the home and a node to Alice as secondary: Alice has both, so the requests
    // apply at once, and change nothing.
    ASSERT_EQ(
        Share(
            carol_, {{"groups", JsonStrings({home_})}, {"user_name", "alice@example.com"}}
        ).status,
        200
    );
    ShareHome(bob_, "bob@example.com", true);
    ASSERT_EQ(
        Share(alice_, {{"groups", JsonStrings({home_})}, {"user_name", "bob@example.com"}}).status,
        200
    );
    EXPECT_TRUE(Primary(bob_, d1_.node_id));
    const auto node = client_.Put(
        "/v1/user/nodes/sharing",
        object{{"nodes", JsonStrings({d1_.node_id})}, {"user_name", "alice@example.com"}},
        carol_.accesstoken
    );
    ASSERT_EQ(node.status, 200) << node.body;
    EXPECT_TRUE(Primary(alice_, d1_.node_id));
    EXPECT_EQ(
        client_.Get("/v1/user/node_group?group_id=" + home_, bob_.accesstoken)
            .json.at("groups")
            .at(0)
            .at("primary"),
        true
    );
}

TEST_F(GroupSharingTest, BadGroupSharingInputsAreRefusedAndChangeNothing) {
    BuildHome();
    const auto home = JsonStrings({home_});
    const auto share = [&](object body) { return Share(alice_, std::move(body)); };
    EXPECT_TRUE(
        IsFailure(share({{"groups", array{}}, {"user_name", "bob@example.com"}}), 400, 108044)
    );
    array eleven;
    for (int i = 0; i < 11; ++i) {
        eleven.emplace_back("g" + std::to_string(i));
    }
    EXPECT_TRUE(
        IsFailure(share({{"groups", eleven}, {"user_name", "bob@example.com"}}), 400, 108036)
    );
    EXPECT_TRUE(IsFailure(
        share({{"groups", JsonStrings({home_, home_})}, {"user_name", "bob@example.com"}}),
        400,
        108112
    ));
    EXPECT_TRUE(IsFailure(
        share({{"groups", JsonStrings({"NoSuchGroup"})}, {"user_name", "bob@example.com"}}),
        400,
        108038
    ));
    EXPECT_TRUE(IsFailure(share({{"groups", home}}), 400, 108045));
    EXPECT_TRUE(
        IsFailure(share({{"groups", home}, {"user_name", "alice@example.com"}}), 400, 108046)
    );
    EXPECT_TRUE(
        IsFailure(share({{"groups", home}, {"user_name", "nobody@example.com"}}), 400, 108050)
    );
    EXPECT_TRUE(IsFailure(
        share({{"groups", home}, {"user_name", "bob@example.com"}, {"new_role", "secondary"}}),
        400,
        108139
    ));
    EXPECT_TRUE(IsFailure(
        share(
            {{"groups", home},
             {"user_name", "bob@example.com"},
             {"transfer", true},
             {"new_role", "admin"}}
        ),
        400,
        108138
    ));
    EXPECT_TRUE(IsFailure(
        share(
            {{"groups", home},
             {"user_name", "bob@example.com"},
             {"transfer", true},
             {"new_role", "primary"}}
        ),
        400,
        108138
    ));
    // Someone else's group does not belong to Bob.
    EXPECT_TRUE(
        IsFailure(Share(bob_, {{"groups", home}, {"user_name", "carol@example.com"}}), 400, 108048)
    );
    EXPECT_TRUE(IsFailure(
        client_.Put(
            "/v1/user/node_group/sharing/requests",
            object{{"request_id", "x"}, {"accept", "yes"}},
            bob_.accesstoken
        ),
        400,
        108054
    ));
    EXPECT_TRUE(IsFailure(
        client_.Put(
            "/v1/user/node_group/sharing/requests", object{{"accept", true}}, bob_.accesstoken
        ),
        400,
        108035
    ));
    EXPECT_TRUE(IsFailure(
        client_.Get("/v1/user/node_group/sharing/requests?primary_user=maybe", alice_.accesstoken),
        400,
        108033
    ));
    EXPECT_TRUE(IsFailure(
        client_.Delete(
            "/v1/user/node_group?group_id=" + home_ + "&remove_sharing=true", alice_.accesstoken
        ),
        400,
        108139
    ));
    EXPECT_TRUE(IsFailure(
        client_.Delete(
            "/v1/user/node_group?group_id=" + home_ +
                "&remove_sharing=true&leave=true&user_name=bob@example.com",
            alice_.accesstoken
        ),
        400,
        108140
    ));
    EXPECT_TRUE(IsFailure(
        client_.Delete(
            "/v1/user/node_group?group_id=" + home_ +
                "&remove_sharing=true&user_name=alice@example.com",
            alice_.accesstoken
        ),
        400,
        108141
    ));
    EXPECT_TRUE(IsFailure(
        client_.Delete(
            "/v1/user/node_group/sharing?groups=" + home_ + "&user_name=bob@example.com",
            alice_.accesstoken
        ),
        400,
        108048
    ));
    // The largest page size is served (capped), not overflowed.
    for (const char* list : {"/v1/user/node_group", "/v1/user/nodes"}) {
        const auto page =
            client_.Get(std::string(list) + "?num_records=2147483647", alice_.accesstoken);
        EXPECT_EQ(page.status, 200) << list << " " << page.body;
    }
    // Nothing was created or shared by any of these.
    EXPECT_TRUE(
        client_.Get("/v1/user/node_group/sharing/requests?primary_user=true", alice_.accesstoken)
            .json.at("sharing_requests")
            .as_array()
            .empty()
    );
    EXPECT_EQ(Nodes(bob_), 0);
    EXPECT_EQ(Groups(bob_), 0);

    // Nodes that came with a group keep the group's role and cannot be transferred alone.
    ShareHome(carol_, "carol@example.com", true);
    EXPECT_TRUE(IsFailure(
        client_.Put(
            "/v1/user/nodes/sharing",
            object{
                {"nodes", JsonStrings({d1_.node_id})},
                {"user_name", "bob@example.com"},
                {"transfer", true}},
            carol_.accesstoken
        ),
        400,
        107034
    ));
    EXPECT_TRUE(IsFailure(
        client_.Put(
            "/v1/user/nodes/sharing",
            object{{"nodes", JsonStrings({d1_.node_id})}, {"user_name", "carol@example.com"}},
            alice_.accesstoken
        ),
        400,
        107029
    ));
    EXPECT_TRUE(Primary(carol_, d1_.node_id));
}

}  // namespace
}  // namespace rainmaker::testing
