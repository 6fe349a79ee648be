// penser-cli devices [--json] [--bandwidth]: the Vulkan devices of this machine, what each offers, and which
// one Penser would choose. Without a Vulkan loader it says why and that the CPU backend is used.
#include "app/cli/commands.h"
#include "app/cli/common.h"
#include "inference/vulkan/context.h"
#include "inference/vulkan/device.h"
#include "inference/vulkan/memory.h"
#include "inference/vulkan/ops.h"
#include "inference/vulkan/recorder.h"

#include <fmt/format.h>
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

json device_json(const vulkan::DeviceInfo& d, bool chosen) {
  json heaps = json::array();
  for (const auto& h : d.heaps) heaps.push_back({{"bytes", h.size}, {"device_local", h.device_local}});
  return {
      {"index", d.index},
      {"name", d.name},
      {"type", d.type_name},
      {"driver", d.driver_name},
      {"driver_info", d.driver_info},
      {"api_version", vulkan::api_version_string(d.api_version)},
      {"vendor_id", d.vendor_id},
      {"device_id", d.device_id},
      {"heaps", heaps},
      {"device_local_bytes", d.device_local_bytes},
      {"unified_memory", d.unified_memory},
      {"subgroup_size", d.subgroup_size},
      {"subgroup_arithmetic", d.subgroup_arithmetic},
      {"fp16", d.fp16},
      {"int8", d.int8},
      {"storage_16bit", d.storage_16bit},
      {"integer_dot_product", d.integer_dot_product},
      {"cooperative_matrix", d.cooperative_matrix},
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
  std::string heaps;
  for (const auto& h : d.heaps)
    heaps += fmt::format("{}{}{}", heaps.empty() ? "" : ", ", vulkan::format_bytes(h.size), h.device_local ? " (device-local)" : "");
  std::printf("     memory       %s%s\n", heaps.c_str(), d.unified_memory ? "; host-visible device memory" : "");
  std::printf("     subgroups    %u%s\n", d.subgroup_size, d.subgroup_arithmetic ? " (arithmetic)" : "");
  std::printf("     features     fp16 %s, int8 %s, 16-bit storage %s, integer dot %s, cooperative matrix %s\n",
              d.fp16 ? "yes" : "no", d.int8 ? "yes" : "no", d.storage_16bit ? "yes" : "no",
              d.integer_dot_product ? "yes" : "no", d.cooperative_matrix ? "yes" : "no");
  std::printf("     limits       binding %s, allocation %s, shared memory %s, %u invocations\n",
              vulkan::format_bytes(d.max_storage_buffer_range).c_str(),
              vulkan::format_bytes(d.max_memory_allocation_size).c_str(),
              vulkan::format_bytes(d.max_shared_memory).c_str(), d.max_workgroup_invocations);
  if (!d.usable()) std::printf("     not usable:  it %s\n", d.unusable_reason.c_str());
}

// Read bandwidth of the matrix-vector product over an f16 matrix (the decode step's dominant pattern):
// bytes of the matrix per second, the best of several products. On a GPU the matrix is large (up to 1 GiB,
// far past the caches) and each product is timed by GPU timestamps, so the submission's latency is not
// counted; on a CPU implementation (slow) 64 MiB timed by the host clock.
Result<double> measure_bandwidth(vulkan::Device& device) {
  using namespace vulkan;
  const DeviceInfo& info = device.info();
  const uint32_t ncols = 4096;
  uint64_t budget = std::min<uint64_t>(info.max_storage_buffer_range, 64ull << 20);
  if (!info.is_cpu())
    budget = std::min({uint64_t(info.max_storage_buffer_range), info.max_memory_allocation_size,
                       info.device_local_bytes / 8, uint64_t(1) << 30});
  const uint32_t nrows = uint32_t(budget / (ncols * 2));
  PENSER_ASSIGN_OR_RETURN(auto a, Buffer::create(device, uint64_t(ncols) * nrows * 2, MemoryUse::DeviceLocal, "the bandwidth probe"));
  std::vector<uint16_t> ones(size_t(ncols) * 256, 0x3C00);  // f16 1.0
  for (uint32_t r = 0; r < nrows; r += 256)
    PENSER_TRY(a->write(uint64_t(r) * ncols * 2, ones.data(), uint64_t(std::min(256u, nrows - r)) * ncols * 2));
  PENSER_ASSIGN_OR_RETURN(auto x, Buffer::create(device, ncols * 4, MemoryUse::DeviceLocal, "the probe vector"));
  std::vector<float> xv(ncols, 1.0f);
  PENSER_TRY(x->write(0, xv.data(), ncols * 4));
  PENSER_ASSIGN_OR_RETURN(auto y, Buffer::create(device, nrows * 4, MemoryUse::DeviceLocal, "the probe output"));
  PENSER_ASSIGN_OR_RETURN(auto ops, Ops::create(device));
  PENSER_ASSIGN_OR_RETURN(auto rec, Recorder::create(device));
  const bool gpu_clock = !info.is_cpu() && device.timestamp_bits() > 0;
  if (gpu_clock) PENSER_TRY(rec->enable_timestamps());
  PENSER_TRY(rec->begin());
  const Matrix m{a.get(), 0, quant::Type::F16, ncols, nrows};
  // Each product writes y, so the recorder puts a barrier between them: timed one after the other.
  for (int i = 0; i < (gpu_clock ? 8 : 1); ++i) PENSER_TRY(ops->mul_mv(*rec, m, View{x->all(), 0}, View{y->all(), 0}));
  PENSER_TRY(rec->end());
  PENSER_TRY(rec->submit_and_wait("the bandwidth probe"));  // warm-up (pipeline, caches)
  rec->take_times();
  double best = 0;
  for (int i = 0; i < 5; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    PENSER_TRY(rec->submit_and_wait("the bandwidth probe"));
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!gpu_clock) best = std::max(best, double(m.bytes()) / s);
  }
  if (gpu_clock) {
    uint32_t subs = 0;
    for (const auto& t : rec->take_times(&subs))  // the first product of a submission waits for nothing
      if (t.seconds > 0) best = std::max(best, double(m.bytes()) * subs / t.seconds);
  }
  float check = 0;
  PENSER_TRY(y->read(0, &check, 4));
  if (check != float(ncols)) return make_error("the bandwidth probe computed {} instead of {}", check, ncols);
  return best;
}

void devices(const DevicesOptions& o) {
  if (Status s = vulkan::load(); !s) {
    if (o.json) std::printf("%s\n", json{{"available", false}, {"reason", s.error().message}, {"devices", json::array()}}.dump(2).c_str());
    else std::printf("%s\n", s.error().message.c_str());
    return;  // not a failure: the CPU backend runs
  }
  auto instance = take(vulkan::Instance::create({}));
  const auto& infos = instance->devices();
  auto chosen = vulkan::choose_device(infos, std::nullopt, /*allow_cpu=*/false);
  std::optional<double> bandwidth;
  if (o.bandwidth && chosen) {
    auto device = take(vulkan::Device::create(*instance, *chosen));
    bandwidth = take(measure_bandwidth(*device));
  }
  if (o.json) {
    json list = json::array();
    for (const auto& d : infos) list.push_back(device_json(d, chosen && *chosen == d.index));
    json out{{"available", true}, {"devices", list}};
    out["default"] = chosen ? json(*chosen) : json(nullptr);
    if (!chosen) out["reason"] = chosen.error().message;
    if (bandwidth) out["bandwidth_bytes_per_s"] = *bandwidth;
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
  if (bandwidth) std::printf("\nbandwidth (f16 matrix-vector read): %.2f GB/s\n", *bandwidth / 1e9);
}

}  // namespace

void add_devices_command(CLI::App& app) {
  auto opts = std::make_shared<DevicesOptions>();
  CLI::App* cmd = app.add_subcommand("devices", "List the Vulkan devices and the one Penser would use (marked *)");
  cmd->add_flag("--json", opts->json, "Machine-readable output");
  cmd->add_flag("--bandwidth", opts->bandwidth, "Measure the default device's read bandwidth (a matrix-vector probe)");
  cmd->callback([opts] { devices(*opts); });
}

}  // namespace penser::cli
