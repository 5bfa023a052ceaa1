// `rainmaker-sim selftest`: checks the node logic (params/remote rules, boot order, topics, keys)
// without a broker, so the simulator can be trusted before it is used to test the server.
#pragma once

namespace rainmaker::sim {

// Prints one line per failed check and a final "selftest ok|FAILED" line; 0 when all pass.
int RunSelfTest();

}  // namespace rainmaker::sim
