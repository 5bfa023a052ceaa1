// What a child process started by the server (mosquitto, mosquitto_passwd) may inherit: stdin,
// stdout and stderr only. Libraries open descriptors without O_CLOEXEC, and another thread can
// open one between fork and exec; closing them in the child is the line of defence that holds
// whatever the rest of the process did.
#pragma once

namespace rainmaker::mqtt {

// Closes every descriptor above 2. For the child between fork() and exec(): it makes only
// async-signal-safe calls (no allocation). close_range(2) where the kernel has it (5.9+), else
// the numbers listed in /proc/self/fd, else every number below the open-file limit.
void CloseInheritedDescriptors();

// The /proc/self/fd walk alone, as used when close_range is refused.
void CloseDescriptorsListedInProcForTest();

}  // namespace rainmaker::mqtt
