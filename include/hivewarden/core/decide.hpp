// The decision of SPEC §4 as a pure function of a policy and a request.
#pragma once

#include "hivewarden/core/decision.hpp"
#include "hivewarden/core/policy_view.hpp"

namespace hivewarden {

// Applies the policy's process rules (first matching image glob wins) on top of the flags and
// rules the host gave, and marks pid 4 named "System" (or unnamed) as the system process. Needs no
// scratch (the image is folded as the globs compare it); the parameter stays for callers.
ProcessContext classify_process(const PolicyView& policy, const ProcessIdentity& process,
                                DecisionScratch& scratch);

// Decides one pre-operation against `policy` in the order of SPEC §4, without side effects:
// keeping a call context is the engine's part. Allocates nothing.
Decision decide_on(const PolicyView& policy, const OperationRequest& request,
                   DecisionScratch& scratch);

}  // namespace hivewarden
