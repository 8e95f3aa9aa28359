// The box's cases: each is a named function that reports failures; the runner prints PASS or FAIL
// with the reasons and exits non-zero when any failed.
#pragma once

#include <cstdint>

namespace box::cases {

// Collects a case's failures (the first few are printed).
struct Report {
  int failures = 0;
  void fail(const char* format, ...) __attribute__((format(printf, 2, 3)));
  // `condition` must hold; else a failure naming `what`.
  bool check(bool condition, const char* what) {
    if (!condition) fail("%s", what);
    return condition;
  }
};

using CaseFunction = void (*)(Report&);
struct Case {
  const char* name;
  CaseFunction run;
  const char* target;  // null: the driver has it now; else what SPEC §11 item it waits for
};

// Registers a case at static-initialisation time.
struct Register {
  Register(const char* name, CaseFunction run, const char* target = nullptr);
};

// The data directory given on the command line (--data DIR), for the decision cases.
const char* data_dir();

}  // namespace box::cases

#define BOX_CASE(name, ...)                                                    \
  static void name(::box::cases::Report&);                                     \
  static ::box::cases::Register name##_registered(#name, name, ##__VA_ARGS__); \
  static void name(::box::cases::Report& report)
