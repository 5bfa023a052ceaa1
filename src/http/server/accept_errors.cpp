// Compared as portable conditions, so that the errno values of any category match.
#include "http/server/accept_errors.hpp"

#include <boost/system/errc.hpp>

namespace rainmaker::http {

bool IsOutOfResources(const boost::system::error_code& ec) {
    namespace errc = boost::system::errc;
    return ec == errc::too_many_files_open || ec == errc::too_many_files_open_in_system ||
           ec == errc::no_buffer_space || ec == errc::not_enough_memory;
}

}  // namespace rainmaker::http
