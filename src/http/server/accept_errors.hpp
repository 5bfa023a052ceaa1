// Which accept() failures mean the process is out of resources, so that the listener backs off
// instead of failing again at once, and which concern one connection only.
#pragma once

#include <boost/system/error_code.hpp>

namespace rainmaker::http {

// True for EMFILE, ENFILE (no descriptor left), ENOBUFS and ENOMEM (no kernel memory). False
// for the rest, e.g. ECONNABORTED or EPROTO (a connection that failed before it was accepted)
// and the network errors Linux reports through accept(): accepting the next connection at once
// is right then.
bool IsOutOfResources(const boost::system::error_code& ec);

}  // namespace rainmaker::http
