#include "inference/common/version.h"

namespace penser {
const char* version() { return PENSER_VERSION; }
}  // namespace penser
