// The host's work on one operation, as the configuration manager does it: create a missing path
// level by level, resolve symbolic links, read the value before, call the callback chain around
// the registry's own operation, and say what happened and what the engine decided.
#pragma once

#include <cstdint>
#include <optional>

#include "hivewarden/core/decision.hpp"
#include "hivewarden/core/operation_request.hpp"
#include "hivewarden/host/callback_chain.hpp"
#include "hivewarden/host/registry.hpp"

namespace hivewarden::host {

// What the host needs beyond the request.
struct HostInputs {
  const Key* saved = nullptr;  // restore-key / replace-key: the subtree to put in place
  // The operation fails after its pre-operation, as if a lower layer refused it (kUnsuccessful):
  // how `run` replays a line whose `status` says the operation failed.
  bool fails = false;
  // A link's target is canonicalised as the request's key was: CurrentControlSet is this set.
  std::uint32_t control_set = 1;
};

struct Applied {
  Status status = Status::kSuccess;  // what the caller sees
  // The deciding callback's decision of the operation applied; empty when it was not asked (the
  // operation failed before its pre-operation). A create of a missing path: the first level
  // denied, else the last level applied.
  std::optional<Decision> decision;
};

// Applies `request` (its key canonical: canonicalize_operation) to `registry` through `chain`. A
// create-key of a missing key creates each missing level as its own create-key, as RegCreateKeyEx
// does (only the last level is the link when creates_link). A key named through a symbolic link
// is decided and applied on its target (not with open_link, for the last component). A null key
// (an invalid name) never reaches the registry: the callbacks decide it (the engine denies it),
// and if they let it through the registry refuses it (kObjectNameInvalid).
Applied apply(Registry& registry, const CallbackChain& chain, const OperationRequest& request,
              const HostInputs& inputs = {});

}  // namespace hivewarden::host
