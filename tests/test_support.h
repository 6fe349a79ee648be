// Helpers shared by the Qt Test suites.
#pragma once

#include <QtGlobal>
#include <QtTest>

// Something the suite needs from the machine is missing (numpy, the Vulkan loader, lavapipe, a tool).
// Locally that is a skip that says why. In CI (CI set) scripts/setup-debian.sh installs all of it, so a
// missing piece is a failure: a check that did not run must never pass unnoticed.
#define PENSER_SKIP_UNLESS_CI(reason)                     \
  do {                                                    \
    if (qEnvironmentVariableIsSet("CI")) QFAIL(reason);   \
    QSKIP(reason);                                        \
  } while (0)
