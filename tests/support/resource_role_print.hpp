// Resource roles in test failure messages by name ("primary"), not as raw bytes.
#pragma once

#include <ostream>

#include "core/resource_role.hpp"

namespace rainmaker::core {

inline void PrintTo(ResourceRole role, std::ostream* os) {
    *os << Name(role);
}

}  // namespace rainmaker::core
