#pragma once

namespace penser {
// The project version from CMake's project(VERSION), the one place it is set.
const char* version();
}  // namespace penser
