#include <sched.h>

#include "platform.hpp"

namespace hivewarden::platform {

void yield_now() { sched_yield(); }

}  // namespace hivewarden::platform
