#include "inference/vulkan/probe.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include "inference/vulkan/knobs.h"
#include "inference/vulkan/memory.h"
#include "inference/vulkan/ops.h"
#include "inference/vulkan/pipeline.h"
#include "inference/vulkan/push.h"
#include "inference/vulkan/recorder.h"

namespace penser::vulkan {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// The probe buffer's contents: word i. Not constant, so a read that returns the wrong words (or none) changes
// the sum.
uint32_t probe_word(uint64_t i) { return uint32_t(i * 2654435761ull) ^ uint32_t(i >> 13); }

// One read pattern: WIDTH 32-bit words per load, wg invocations per workgroup.
struct ReadShape {
  uint32_t width, wg, layout = 0;  // layout: probe_read.comp's LAYOUT (1: a contiguous part per subgroup)
  bool int64 = false;              // 8-byte components (probe_read_int64)
  uint32_t load_bytes() const { return 4 * width; }
  std::string name() const {
    const char* type = int64 ? (width == 8 ? "u64vec4" : "u64vec2") : width == 1 ? "uint" : width == 2 ? "uvec2" : "uvec4";
    return fmt::format("read {} x {}{}", type, wg, layout ? " by subgroup" : "");
  }
};
// Loads per workgroup, in rounds of wg: enough to amortise a workgroup's start, and (1 GiB / 16 bytes /
// (256 * 64)) 4096 workgroups on a GPU.
constexpr uint32_t kRoundsPerGroup = 64;

struct Timing {
  bool gpu_clock;
  int repeats;
};

// Times `record` (one run of the pattern, `bytes` moved): the best of `repeats` submissions after a warm-up.
// On the GPU clock a submission holds several runs and each dispatch is timed on its own (the recorder puts
// a barrier between runs, which write the same output), so submission latency is not counted.
template <typename F>
Result<double> time_dispatches(Device& device, const Timing& t, uint64_t bytes, uint32_t dispatches_per_run, F&& record) {
  const int runs_per_submission = t.gpu_clock ? 4 : 1;
  PENSER_ASSIGN_OR_RETURN(auto rec, Recorder::create(device, dispatches_per_run * runs_per_submission + 1));
  if (t.gpu_clock) PENSER_TRY(rec->enable_timestamps());
  PENSER_TRY(rec->begin());
  for (int r = 0; r < runs_per_submission; ++r) PENSER_TRY(record(*rec));
  PENSER_TRY(rec->end());
  PENSER_TRY(rec->submit_and_wait("the bandwidth probe"));  // warm-up: pipeline, page faults, caches
  rec->take_times();
  double best = 0;
  for (int i = 0; i < t.repeats; ++i) {
    const auto t0 = Clock::now();
    PENSER_TRY(rec->submit_and_wait("the bandwidth probe"));
    if (!t.gpu_clock) best = std::max(best, double(bytes) / seconds_since(t0));
  }
  if (t.gpu_clock) {
    // A run's time is the sum of its dispatches (one per binding chunk).
    uint32_t subs = 0;
    const auto times = rec->take_times(&subs);
    for (size_t r = 0; r + dispatches_per_run <= times.size(); r += dispatches_per_run) {
      double s = 0;
      for (size_t d = r; d < r + dispatches_per_run; ++d) s += times[d].seconds;
      if (s > 0) best = std::max(best, double(bytes) * subs / s);
    }
  }
  return best;
}

// The f16 matrix-vector product of the decode step over a matrix of ones (the probe before this file:
// kept as a labelled pattern, the product's own ceiling). Checks y[0].
Result<double> matvec_rate(Device& device, const Timing& t) {
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
  const Matrix m{a.get(), 0, quant::Type::F16, ncols, nrows};
  PENSER_ASSIGN_OR_RETURN(double rate, time_dispatches(device, t, m.bytes(), 1, [&](Recorder& rec) {
    return ops->mul_mv(rec, m, View{x->all(), 0}, View{y->all(), 0});
  }));
  float check = 0;
  PENSER_TRY(y->read(0, &check, 4));
  if (check != float(ncols)) return make_error("the bandwidth probe's product computed {} instead of {}", check, ncols);
  return rate;
}

}  // namespace

Result<BandwidthProbe> measure_bandwidth(Device& device, const ProbeOptions& o) {
  const DeviceInfo& info = device.info();
  const Timing timing{!info.is_cpu() && device.timestamp_bits() > 0, std::max(1, o.repeats)};
  uint64_t bytes = o.bytes;
  // PENSER_VK_PROBE_BYTES: a smaller probe for the CLI tests (which run `devices --bandwidth` and `bench
  // --memory-bandwidth` on lavapipe); not a figure to quote.
  if (bytes == 0) bytes = env_uint("PENSER_VK_PROBE_BYTES", 0, UINT64_MAX).value_or(0);
  if (bytes == 0)
    bytes = info.is_cpu() ? 256ull << 20
                          : std::min({info.max_memory_allocation_size, info.device_local_bytes / 8, uint64_t(1) << 30});
  bytes = bytes / 32 * 32;  // whole loads of every width
  if (bytes < 32) return make_error("the bandwidth probe needs at least 32 bytes");
  // Bindings: at most the binding limit, each starting at an aligned offset and a whole number of loads.
  const uint64_t align = std::max<uint64_t>(32, info.min_storage_offset_alignment);
  uint64_t max_range = info.max_storage_buffer_range;
  if (o.max_binding_bytes) max_range = std::min(max_range, o.max_binding_bytes);
  const uint64_t chunk = max_range / align * align;
  if (chunk == 0) return make_error("the bandwidth probe cannot bind {} bytes", max_range);
  std::vector<BufferRange> chunks;

  PENSER_ASSIGN_OR_RETURN(auto src, Buffer::create(device, bytes, MemoryUse::DeviceLocal, "the bandwidth probe"));
  for (uint64_t off = 0; off < bytes; off += chunk) chunks.push_back(src->range(off, std::min(chunk, bytes - off)));
  uint32_t expected = 0;
  {
    std::vector<uint32_t> words(std::min<uint64_t>(bytes / 4, 1u << 20));
    for (uint64_t w0 = 0; w0 < bytes / 4; w0 += words.size()) {
      const uint64_t n = std::min<uint64_t>(words.size(), bytes / 4 - w0);
      for (uint64_t i = 0; i < n; ++i) expected += words[i] = probe_word(w0 + i);
      PENSER_TRY(src->write(w0 * 4, words.data(), n * 4));
    }
  }

  BandwidthProbe out;
  out.words_checked = bytes / 4;
  // Loads of 4 to 32 bytes in several workgroup sizes, GPU-coalesced and (for CPU implementations, which
  // run a subgroup through the whole shader before the next) a contiguous part per subgroup.
  std::vector<ReadShape> shapes = {{1, 64}, {4, 16}, {4, 64}, {4, 256}, {4, 64, 1}, {4, 256, 1}};
  if (info.is_cpu()) shapes.insert(shapes.begin(), {ReadShape{1, 8}, ReadShape{2, 8}, ReadShape{4, 8}});
  if (device.int64()) {
    shapes.push_back({8, 64, 0, true});
    shapes.push_back({8, 256, 1, true});
    if (info.is_cpu()) shapes.insert(shapes.end(), {ReadShape{4, 8, 0, true}, ReadShape{8, 8, 0, true}, ReadShape{8, 16, 0, true}});
  }
  uint64_t max_partials = 0;
  for (const ReadShape& s : shapes) {
    uint64_t partials = 0;
    for (const BufferRange& c : chunks) {
      const uint64_t n = c.range / s.load_bytes(), per_group = uint64_t(s.wg) * kRoundsPerGroup;
      partials += (n + per_group - 1) / per_group * s.wg;
    }
    max_partials = std::max(max_partials, partials);
  }
  PENSER_ASSIGN_OR_RETURN(auto sums, Buffer::create(device, max_partials * 4, MemoryUse::DeviceLocal, "the probe sums"));
  std::vector<uint32_t> host(max_partials);
  for (const ReadShape& s : shapes) {
    PipelineDesc desc{s.int64 ? "probe_read_int64" : "probe_read", 2, 1u << 1, sizeof(ProbeReadPush),
                      {s.wg, 0u, s.width, s.layout}, s.wg};
    PENSER_ASSIGN_OR_RETURN(auto pipeline, Pipeline::create(device, desc));
    std::fill(host.begin(), host.end(), 0u);
    PENSER_TRY(sums->write(0, host.data(), max_partials * 4));
    PENSER_ASSIGN_OR_RETURN(double rate, time_dispatches(device, timing, bytes, uint32_t(chunks.size()), [&](Recorder& rec) -> Status {
      uint32_t out_offset = 0;
      for (const BufferRange& c : chunks) {
        const uint32_t n = uint32_t(c.range / s.load_bytes()), per_group = s.wg * kRoundsPerGroup;
        const uint32_t groups = (n + per_group - 1) / per_group;
        const ProbeReadPush push{n, per_group, out_offset};
        uint32_t gx, gy;
        grid_2d(info, groups, gx, gy);
        const BufferRange bindings[] = {c, sums->all()};
        PENSER_TRY(rec.dispatch(*pipeline, bindings, &push, sizeof(push), gx, gy));
        out_offset += groups * s.wg;
      }
      return {};
    }));
    PENSER_TRY(sums->read(0, host.data(), max_partials * 4));
    uint32_t got = 0;
    for (uint32_t v : host) got += v;
    const std::string name = s.name();
    if (got != expected)
      return make_error("the bandwidth probe's {} summed 0x{:08x} instead of 0x{:08x}: the shader did not read the "
                        "whole buffer", name, got, expected);
    out.patterns.push_back({name, true, bytes, rate});
    if (rate > out.read_limit) {
      out.read_limit = rate;
      out.limit_pattern = name;
    }
  }

  if (o.copy) {
    PENSER_ASSIGN_OR_RETURN(auto dst, Buffer::create(device, bytes, MemoryUse::DeviceLocal, "the bandwidth probe copy"));
    const int copies = timing.gpu_clock ? 4 : 1;  // host-timed: several per submission hide its latency on a GPU
    double best = 0;
    for (int i = 0; i <= timing.repeats; ++i) {
      const auto t0 = Clock::now();
      PENSER_TRY(device.run_once("the bandwidth probe's copy", [&](VkCommandBuffer cmd) {
        const VkBufferCopy region{0, 0, bytes};
        for (int c = 0; c < copies; ++c) {
          if (c > 0) {
            VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
            mb.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
            mb.dstAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
            vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &mb, 0,
                                 nullptr, 0, nullptr);
          }
          vkCmdCopyBuffer(cmd, src->handle(), dst->handle(), 1, &region);
        }
      }));
      if (i > 0) best = std::max(best, 2.0 * double(bytes) * copies / seconds_since(t0));  // i == 0: warm-up
    }
    uint32_t last = 0;
    PENSER_TRY(dst->read(bytes - 4, &last, 4));
    if (last != probe_word(bytes / 4 - 1)) return make_error("the bandwidth probe's copy did not copy");
    out.patterns.push_back({"copy (read + write)", false, 2 * bytes, best});
  }
  if (o.matvec) {
    PENSER_ASSIGN_OR_RETURN(double rate, matvec_rate(device, timing));
    out.patterns.push_back({"f16 mat-vec (Ops::mul_mv)", false, 0, rate});
  }
  return out;
}

}  // namespace penser::vulkan
