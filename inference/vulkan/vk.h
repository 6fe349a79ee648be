// Vulkan through volk (the loader is opened at run time), and VkResult turned into messages in one place.
#pragma once

#include <volk.h>

#include <string_view>

#include "inference/common/result.h"

namespace penser::vulkan {

const char* result_name(VkResult result);  // "VK_ERROR_DEVICE_LOST"
// "<what> failed: VK_ERROR_OUT_OF_DEVICE_MEMORY (the GPU is out of memory ...)"
Error vk_error(VkResult result, std::string_view what);

// Bytes as "1.50 GiB" / "12.0 MiB" / "512 B", for messages.
std::string format_bytes(uint64_t bytes);

// Puts a Vulkan structure at the front of a pNext chain (of a query, or of a create info's features).
template <typename Head, typename T>
void chain_front(Head& head, T& s) {
  s.pNext = head.pNext;
  head.pNext = &s;
}

}  // namespace penser::vulkan

// PENSER_VK_TRY(vkCall(...), "what it was doing"): returns vk_error(...) from the enclosing function.
#define PENSER_VK_TRY(call, what)                                                   \
  do {                                                                              \
    const VkResult penser_vk_r_ = (call);                                           \
    if (penser_vk_r_ != VK_SUCCESS) return ::penser::vulkan::vk_error(penser_vk_r_, what); \
  } while (0)
