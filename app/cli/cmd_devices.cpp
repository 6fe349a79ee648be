// penser-cli devices [--json] [--bandwidth]: the Vulkan devices of this machine, what each offers, and which
// one Penser would choose. Without a Vulkan loader or driver it says why and that the CPU backend is used.
#include "app/cli/commands.h"
#include "app/cli/common.h"
#include "inference/vulkan/context.h"
#include "inference/vulkan/device.h"
#include "inference/vulkan/memory.h"
#include "inference/vulkan/probe.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>

namespace penser::cli {
namespace {

using nlohmann::json;

struct DevicesOptions {
  bool json = false;
  bool bandwidth = false;
};

// VK_NV_cooperative_matrix's fp16 x fp16 -> fp32 subgroup shapes, "MxNxK".
std::vector<std::string> coopmat_shapes(const vulkan::DeviceInfo& d) {
  std::vector<std::string> out;
  for (const auto& c : d.coopmat_shapes) out.push_back(fmt::format("{}x{}x{}", c.m, c.n, c.k));
  return out;
}

json device_json(const vulkan::DeviceInfo& d, bool chosen) {
  const vulkan::SubgroupPlan plan = vulkan::device_subgroup_plan(d);
  json heaps = json::array();
  for (const auto& h : d.heaps) {
    json heap = {{"bytes", h.size}, {"device_local", h.device_local}};
    if (d.budget_known) {  // VK_EXT_memory_budget
      heap["budget_bytes"] = h.budget;
      heap["usage_bytes"] = h.usage;
    }
    heaps.push_back(heap);
  }
  return {
      {"index", d.index},
      {"name", d.name},
      {"type", d.type_name},
      {"driver", d.driver_name},
      {"driver_info", d.driver_info},
      {"api_version", vulkan::api_version_string(d.api_version)},
      {"vendor_id", d.vendor_id},
      {"device_id", d.device_id},
      {"uuid", d.uuid},
      {"identity", vulkan::device_identity(d)},
      {"heaps", heaps},
      {"device_local_bytes", d.device_local_bytes},
      {"system_bytes", d.system_bytes},
      {"memory_budget_bytes", d.memory_budget()},
      {"memory_free_known", d.budget_known},
      {"memory_free_bytes", d.memory_free()},
      {"memory_usable_bytes", d.usable_bytes()},
      {"unified_memory", d.unified_memory},
      {"device_memory_mapped", d.device_memory_mapped},
      {"subgroup_size", d.subgroup_size},
      {"subgroup_arithmetic", d.subgroup_arithmetic},
      {"subgroup_size_min", d.min_subgroup_size},
      {"subgroup_size_max", d.max_subgroup_size},
      {"subgroup_size_control", d.subgroup_size_control},
      {"subgroups_used", plan.enabled},
      {"subgroup_size_used", plan.size},
      {"subgroup_size_pinned", plan.pinned},
      {"full_subgroups", plan.full},
      {"subgroups_note", plan.note},
      {"fp16", d.fp16},
      {"int8", d.int8},
      {"storage_16bit", d.storage_16bit},
      {"integer_dot_product", d.integer_dot_product},
      {"integer_dot_product_usable", d.integer_dot_usable},
      {"integer_dot_product_accelerated", d.integer_dot_accelerated},
      {"cooperative_matrix", d.cooperative_matrix},
      {"nv_cooperative_matrix", d.nv_cooperative_matrix},
      {"cooperative_matrix_shapes", coopmat_shapes(d)},
      {"cooperative_matrix_usable", d.coopmat_usable},
      {"max_storage_buffer_range", d.max_storage_buffer_range},
      {"max_memory_allocation_size", d.max_memory_allocation_size},
      {"max_compute_shared_memory", d.max_shared_memory},
      {"max_workgroup_invocations", d.max_workgroup_invocations},
      {"usable", d.usable()},
      {"unusable_reason", d.unusable_reason},
      {"default", chosen},
  };
}

void print_device(const vulkan::DeviceInfo& d, bool chosen) {
  std::printf("%s%u: %s (%s)\n", chosen ? "* " : "  ", d.index, d.name.c_str(), d.type_name.c_str());
  std::printf("     driver       %s %s, Vulkan %s\n", d.driver_name.c_str(), d.driver_info.c_str(),
              vulkan::api_version_string(d.api_version).c_str());
  std::printf("     uuid         %s\n", d.uuid.empty() ? "none reported" : d.uuid.c_str());
  std::string heaps;
  for (const auto& h : d.heaps)
    heaps += fmt::format("{}{}{}", heaps.empty() ? "" : ", ", vulkan::format_bytes(h.size), h.device_local ? " (device-local)" : "");
  // Mapped device memory: the host writes a buffer in place; elsewhere every upload and read-back is a
  // staging copy (docs/vulkan.md, "A token's inputs where the CPU cannot map device memory").
  const char* mapped = d.device_memory_mapped
                           ? (d.type == VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU ? "; the CPU maps it all (resizable BAR)"
                                                                              : "; the CPU maps it (unified memory)")
                           : "; the CPU maps none of it: copies through staging";
  std::printf("     memory       %s%s; a model may take %s%s\n", heaps.c_str(), mapped,
              vulkan::format_bytes(d.memory_budget()).c_str(),
              d.memory_budget() > d.device_local_bytes ? " (system memory: an integrated GPU)" : "");
  if (d.budget_known)
    std::printf("     free now     %s (VK_EXT_memory_budget); a model and its context may take %s\n",
                vulkan::format_bytes(d.memory_free()).c_str(), vulkan::format_bytes(d.usable_bytes()).c_str());
  std::string range = d.min_subgroup_size ? fmt::format(", min {} max {}", d.min_subgroup_size, d.max_subgroup_size) : "";
  std::printf("     subgroups    %u%s%s; used: %s\n", d.subgroup_size, d.subgroup_arithmetic ? " (arithmetic)" : "",
              range.c_str(), vulkan::device_subgroup_plan(d).note.c_str());
  std::printf("     features     fp16 %s, int8 %s, 16-bit storage %s, integer dot %s, cooperative matrix KHR %s NV %s\n",
              d.fp16 ? "yes" : "no", d.int8 ? "yes" : "no", d.storage_16bit ? "yes" : "no",
              d.integer_dot_usable ? (d.integer_dot_accelerated ? "yes (in hardware)" : "yes (emulated)")
              : d.integer_dot_product ? "listed, feature off" : "no",
              d.cooperative_matrix ? "yes" : "no",
              d.nv_cooperative_matrix ? "yes" : "no");
  if (d.nv_cooperative_matrix) {
    const auto shapes = coopmat_shapes(d);
    std::printf("     coopmat NV   fp16 x fp16 -> fp32 shapes: %s; %s\n",
                shapes.empty() ? "none" : fmt::format("{}", fmt::join(shapes, ", ")).c_str(),
                d.coopmat_usable ? "usable: the prompt's products run on them (PENSER_VK_MUL_MM_COOPMAT=0: not)"
                                 : "not usable (needs cooperativeMatrix, shaderFloat16, vulkanMemoryModel with Device "
                                   "scope, Vulkan 1.2)");
  }
  std::printf("     limits       binding %s, allocation %s, shared memory %s, %u invocations\n",
              vulkan::format_bytes(d.max_storage_buffer_range).c_str(),
              vulkan::format_bytes(d.max_memory_allocation_size).c_str(),
              vulkan::format_bytes(d.max_shared_memory).c_str(), d.max_workgroup_invocations);
  if (!d.usable()) std::printf("     not usable:  it %s\n", d.unusable_reason.c_str());
}

void devices(const DevicesOptions& o) {
  // Without a loader, or with one that finds no driver it can start, there is no device to list: not a
  // failure, since the CPU backend runs.
  auto made = vulkan::Instance::create({});
  if (!made) {
    const std::string& why = made.error().message;
    if (o.json) std::printf("%s\n", json{{"available", false}, {"reason", why}, {"devices", json::array()}}.dump(2).c_str());
    else std::printf("%s.\nPenser uses its CPU backend.\n", why.c_str());
    return;
  }
  const std::unique_ptr<vulkan::Instance> instance = std::move(*made);
  const auto& infos = instance->devices();
  auto chosen = vulkan::choose_device(infos, std::nullopt, /*allow_cpu=*/false);
  std::optional<vulkan::BandwidthProbe> bandwidth;
  if (o.bandwidth && chosen) {
    auto device = take(vulkan::Device::create(*instance, *chosen));
    bandwidth = take(vulkan::measure_bandwidth(*device));
  }
  if (o.json) {
    json list = json::array();
    for (const auto& d : infos) list.push_back(device_json(d, chosen && *chosen == d.index));
    json out{{"available", true}, {"devices", list}};
    out["default"] = chosen ? json(*chosen) : json(nullptr);
    if (!chosen) out["reason"] = chosen.error().message;
    if (bandwidth) {
      out["bandwidth_bytes_per_s"] = bandwidth->read_limit;  // the limit: the fastest plain read
      out["bandwidth_pattern"] = bandwidth->limit_pattern;
      json patterns = json::array();
      for (const auto& p : bandwidth->patterns)
        patterns.push_back({{"pattern", p.name}, {"read", p.read}, {"bytes", p.bytes}, {"bytes_per_s", p.bytes_per_s}});
      out["bandwidth_patterns"] = patterns;
    }
    std::printf("%s\n", out.dump(2).c_str());
    return;
  }
  if (infos.empty()) std::printf("no Vulkan device found\n");
  for (const auto& d : infos) print_device(d, chosen && *chosen == d.index);
  if (chosen && infos[*chosen].is_cpu())
    std::printf("\nOnly a CPU Vulkan implementation is present: Penser uses its own CPU backend unless asked for "
                "--backend vulkan.\n");
  else if (!chosen)
    std::printf("\n%s\n", chosen.error().message.c_str());
  if (bandwidth) {
    std::printf("\n");
    for (const auto& p : bandwidth->patterns)
      std::printf("  %-32s %8.2f GB/s%s\n", p.name.c_str(), p.bytes_per_s / 1e9,
                  p.read ? "" : p.bytes ? "  (bytes read + written)" : "  (not a plain read: not the limit)");
    std::printf("bandwidth (best plain read, %s over %s): %.2f GB/s\n", bandwidth->limit_pattern.c_str(),
                vulkan::format_bytes(bandwidth->words_checked * 4).c_str(), bandwidth->read_limit / 1e9);
  }
}

}  // namespace

void add_devices_command(CLI::App& app) {
  auto opts = std::make_shared<DevicesOptions>();
  CLI::App* cmd = app.add_subcommand("devices", "List the Vulkan devices and the one Penser would use (marked *)");
  cmd->add_flag("--json", opts->json, "Machine-readable output");
  cmd->add_flag("--bandwidth", opts->bandwidth, "Measure the default device's memory bandwidth (plain reads of a large buffer, a copy, an f16 matrix-vector product)");
  cmd->callback([opts] { devices(*opts); });
}

}  // namespace penser::cli
