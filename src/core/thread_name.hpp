// Names the calling thread as `top -H`, perf and /proc/<pid>/task/<tid>/comm show it (Linux
// keeps the first 15 bytes). The benchmarks read each thread's CPU time by these names.
#pragma once

#include <pthread.h>

namespace rainmaker::core {

inline void NameThisThread(const char* name) {
    pthread_setname_np(pthread_self(), name);
}

}  // namespace rainmaker::core
