// Instance, devices, buffers and the recorder on the machine's Vulkan device (lavapipe in CI).
#include <QElapsedTimer>
#include <QProcess>
#include <QtTest>
#include "tests/test_support.h"

#include <cmath>
#include <future>
#include <thread>
#include <map>
#include <cstring>
#include <numeric>

#include "inference/vulkan/evaluator.h"
#include "inference/vulkan/memory.h"
#include "inference/vulkan/ops.h"
#include "inference/vulkan/probe.h"
#include "inference/vulkan/push.h"
#include "inference/vulkan/shaders.h"
#include "tests/vulkan/vk_fixture.h"

using namespace vkt;

class TestVulkanCore : public QObject {
  Q_OBJECT
  Gpu gpu;

 private slots:
  void initTestCase() { VKT_OPEN(gpu); }
  void cleanup() { QVERIFY2(gpu.clean(), "the validation layer reported errors"); }

  void device_is_described() {
    const DeviceInfo& d = gpu.device->info();
    QVERIFY(!d.name.empty());
    QVERIFY(d.usable());
    QVERIFY(d.subgroup_size >= 1);
    QVERIFY(d.max_storage_buffer_range >= (1u << 27) || d.max_storage_buffer_range >= (1u << 20));
    QVERIFY(d.max_memory_allocation_size > 0);
    QVERIFY(d.max_shared_memory >= 16384);
    QVERIFY(d.device_local_bytes > 0);
    QVERIFY(!d.heaps.empty());
    QVERIFY(d.min_storage_offset_alignment >= 1);
    if (qEnvironmentVariable("VK_ICD_FILENAMES").contains("lvp_icd")) {
      // The facts the docs and the split logic rely on for lavapipe.
      QCOMPARE(d.type, VK_PHYSICAL_DEVICE_TYPE_CPU);
      QCOMPARE(d.max_storage_buffer_range, uint64_t(128) << 20);
      QVERIFY(d.unified_memory && d.device_memory_mapped);
      QVERIFY(!d.nv_cooperative_matrix && !d.coopmat_usable);  // the coopmat rows' skip reason
      // Vulkan 1.3: integer dot products, in software (the op suite's mul_mv_q8x runs there).
      QVERIFY(d.integer_dot_product && d.integer_dot_usable && !d.integer_dot_accelerated);
    }
    // The feature is enabled exactly where the device has it.
    QCOMPARE(gpu.device->integer_dot_product(), d.integer_dot_usable);
    // VK_NV_cooperative_matrix is enabled exactly where it is usable, and usable only with an fp16 shape.
    QCOMPARE(gpu.device->cooperative_matrix(), d.coopmat_usable);
    if (d.coopmat_usable) {
      QVERIFY(d.nv_cooperative_matrix && d.fp16 && !d.coopmat_shapes.empty());
    }
  }

  void default_choice_prefers_gpus() {
    auto mk = [](uint32_t i, VkPhysicalDeviceType t, uint64_t mem) {
      DeviceInfo d;
      d.index = i;
      d.name = "dev" + std::to_string(i);
      d.type = t;
      d.device_local_bytes = mem;
      return d;
    };
    std::vector<DeviceInfo> devs = {mk(0, VK_PHYSICAL_DEVICE_TYPE_CPU, 64ull << 30),
                                    mk(1, VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU, 8ull << 30),
                                    mk(2, VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU, 4ull << 30),
                                    mk(3, VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU, 12ull << 30)};
    QCOMPARE(*choose_device(devs, std::nullopt, false), 3u);  // discrete, the larger one
    devs[3].unusable_reason = "lacks something";
    QCOMPARE(*choose_device(devs, std::nullopt, false), 2u);
    devs.erase(devs.begin() + 2, devs.end());
    QCOMPARE(*choose_device(devs, std::nullopt, false), 1u);  // integrated beats a CPU implementation
    devs.pop_back();
    QCOMPARE(*choose_device(devs, std::nullopt, false), 0u);  // lavapipe only when nothing else exists
    // --device N overrides, and says what is wrong with a bad N.
    devs = {mk(0, VK_PHYSICAL_DEVICE_TYPE_CPU, 1), mk(1, VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU, 1)};
    QCOMPARE(*choose_device(devs, 0u, false), 0u);
    auto bad = choose_device(devs, 7u, false);
    QVERIFY(!bad);
    QVERIFY(bad.error().message.find("no Vulkan device 7") != std::string::npos);
    QVERIFY(!choose_device({}, std::nullopt, true));
  }

  // A device's identity from one run to the next (the app's GPU setting): its deviceUUID where the driver
  // gives one (the same through every instance), else vendor, device id and name; found at its index now.
  void devices_are_identified_across_runs() {
    const DeviceInfo& d = gpu.instance->devices().at(gpu.device->info().index);
    if (d.driver_id == VK_DRIVER_ID_MESA_LLVMPIPE) QVERIFY(!d.uuid.empty());  // Mesa's version in ASCII
    if (!d.uuid.empty()) {
      QCOMPARE(d.uuid.size(), size_t(32));
      QVERIFY(d.uuid.find_first_not_of("0123456789abcdef") == std::string::npos);
      QCOMPARE(device_identity(d), d.uuid);
    }
    auto again = Instance::create({});
    QVERIFY(again.has_value());
    QCOMPARE((*again)->devices().at(d.index).uuid, d.uuid);

    DeviceInfo a, b;
    a.index = 0, a.name = "Intel(R) UHD Graphics 620", a.vendor_id = 0x8086, a.device_id = 0x5917;
    b.index = 1, b.name = "NVIDIA GeForce MX150", b.vendor_id = 0x10de, b.device_id = 0x1d10;
    b.uuid = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
    QCOMPARE(device_identity(a), std::string("8086:5917:Intel(R) UHD Graphics 620"));  // no uuid
    QCOMPARE(device_identity(b), b.uuid);
    std::vector<DeviceInfo> order = {a, b};
    QCOMPARE(find_device(order, b.uuid), std::optional<uint32_t>(1));
    std::swap(order[0], order[1]);  // another order (an update, the eGPU plugged in): indices follow it
    order[0].index = 0, order[1].index = 1;
    QCOMPARE(find_device(order, b.uuid), std::optional<uint32_t>(0));
    QCOMPARE(find_device(order, device_identity(a)), std::optional<uint32_t>(1));
    QCOMPARE(find_device(order, "ffffffffffffffffffffffffffffffff"), std::optional<uint32_t>());
  }

  // The memory a model may take (DeviceInfo::memory_budget, Device::check_fits, the app's fit check): the
  // largest device-local heap, or on an integrated GPU the system-memory heap where that is larger (AMD's
  // Windows driver reports a 512 MiB carve-out as its APUs' device-local memory); never system memory on a
  // discrete GPU, which would read it across the bus.
  void memory_budget_counts_system_memory_on_integrated_gpus() {
    DeviceInfo d;
    d.type = VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU;
    d.device_local_bytes = 512ull << 20;
    d.system_bytes = 8ull << 30;
    QCOMPARE(d.memory_budget(), 8ull << 30);
    d.device_local_bytes = 16ull << 30;  // Intel, RADV: a large device-local heap
    QCOMPARE(d.memory_budget(), 16ull << 30);
    d.type = VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU;
    d.device_local_bytes = 512ull << 20;
    QCOMPARE(d.memory_budget(), 512ull << 20);
    const DeviceInfo& here = gpu.device->info();
    QVERIFY(here.memory_budget() >= here.device_local_bytes);
  }

  // The fit check counts what other programs hold where the driver says what is free (VK_EXT_memory_budget;
  // lavapipe does not have it, so synthetic devices), and says so in words a user can act on.
  void fit_check_counts_memory_other_programs_use() {
    constexpr uint64_t MiB = 1ull << 20, GiB = 1ull << 30;
    DeviceInfo d;
    d.name = "Laptop GPU";
    d.type = VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU;
    d.device_local_bytes = 8 * GiB;
    // Without the extension: 90% of the heap, as before.
    QCOMPARE(d.usable_bytes(), 8 * GiB / 10 * 9);
    QCOMPARE(d.memory_free(), 8 * GiB);
    QVERIFY(!d.limited_by_others());
    QVERIFY(fit_error(d, 7 * GiB, "the model").has_value());
    // The desktop and a browser hold 3 GiB: 5 GiB free, 95% of it usable.
    d.budget_known = true;
    d.device_local_free = 5 * GiB;
    QCOMPARE(d.usable_bytes(), 5 * GiB / 20 * 19);
    QVERIFY(d.limited_by_others());
    QVERIFY(fit_error(d, 4 * GiB, "the model").has_value());
    const Status st = fit_error(d, 7 * GiB, "the model and its context");
    QVERIFY(!st.has_value());
    const std::string& m = st.error().message;
    QVERIFY2(m.find("need 7.00 GiB") != std::string::npos, m.c_str());
    QVERIFY2(m.find("only 5.00 GiB of its 8.00 GiB free now") != std::string::npos, m.c_str());
    QVERIFY2(m.find("close programs that use the GPU") != std::string::npos, m.c_str());
    // A GPU nobody else uses: the 90% rule still caps it, and the error is the plain one.
    d.device_local_free = 8 * GiB - 64 * MiB;
    QCOMPARE(d.usable_bytes(), 8 * GiB / 10 * 9);
    QVERIFY(!d.limited_by_others());
    const Status plain = fit_error(d, 7800 * MiB, "the model");
    QVERIFY(!plain.has_value());
    QVERIFY2(plain.error().message.find("has 8.00 GiB of memory") != std::string::npos, plain.error().message.c_str());
    // An AMD APU on Windows: the 512 MiB carve-out is device-local, system memory is what counts, and what is
    // free of it.
    DeviceInfo apu;
    apu.type = VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU;
    apu.device_local_bytes = 512 * MiB;
    apu.system_bytes = 16 * GiB;
    apu.budget_known = true;
    apu.device_local_free = 400 * MiB;
    apu.system_free = 6 * GiB;
    QCOMPARE(apu.memory_free(), 6 * GiB);
    QCOMPARE(apu.usable_bytes(), 6 * GiB / 20 * 19);
    // This machine's device: without the extension (lavapipe) nothing changes; with it, the heaps' figures are
    // read and what is free never exceeds what the heap budget allows.
    const DeviceInfo& here = gpu.device->info();
    QVERIFY(here.usable_bytes() <= here.memory_budget() / 10 * 9);
    if (!here.budget_known) QCOMPARE(here.usable_bytes(), here.memory_budget() / 10 * 9);
    for (const MemoryHeap& h : here.heaps)
      if (!here.budget_known) QVERIFY(h.budget == 0 && h.usage == 0);
  }

  // Which memory a buffer goes to (memory_type_order), on memory layouts this machine does not have.
  void memory_types_in_order() {
    using Heaps = std::vector<std::pair<uint64_t, bool>>;                      // size, device-local
    using Types = std::vector<std::pair<uint32_t, VkMemoryPropertyFlags>>;  // heap, flags
    auto props_of = [](const Heaps& heaps, const Types& types) {
      VkPhysicalDeviceMemoryProperties p{};
      p.memoryHeapCount = uint32_t(heaps.size());
      for (size_t i = 0; i < heaps.size(); ++i)
        p.memoryHeaps[i] = {heaps[i].first, heaps[i].second ? VkMemoryHeapFlags(VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) : 0u};
      p.memoryTypeCount = uint32_t(types.size());
      for (size_t i = 0; i < types.size(); ++i) p.memoryTypes[i] = {types[i].second, types[i].first};
      return p;
    };
    auto types_of = [](const std::vector<MemoryChoice>& order, bool system) {
      std::vector<uint32_t> t;
      for (const MemoryChoice& c : order)
        if (c.system_memory == system) t.push_back(c.type);
      return t;
    };
    constexpr VkMemoryPropertyFlags L = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT,
                                    V = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                                    C = VK_MEMORY_PROPERTY_HOST_CACHED_BIT;
    constexpr uint64_t MiB = 1ull << 20, GiB = 1ull << 30;
    DeviceInfo discrete, apu;
    discrete.type = VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU;
    apu.type = VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU;
    // A discrete GPU without resizable BAR: 8 GiB of VRAM, system memory, and the 256 MiB window of VRAM the
    // CPU can map. Buffers go to VRAM (uploaded through staging), the window only when VRAM is full: put
    // there first, the weights would fill 256 MiB and then fail to allocate.
    const auto no_rebar = props_of({{8 * GiB, true}, {16 * GiB, false}, {256 * MiB, true}},
                                   {{1, 0}, {0, L}, {1, V}, {1, V | C}, {2, L | V}});
    auto order = memory_type_order(no_rebar, 0x1F, MemoryUse::DeviceLocal, discrete);
    QCOMPARE(types_of(order, false), (std::vector<uint32_t>{1, 4}));
    QVERIFY(types_of(order, true).empty());  // never system memory on a discrete GPU
    // Resizable BAR (the H200's 140 GiB): all of VRAM mapped, so mapped VRAM first (no staging copy).
    const auto rebar = props_of({{8 * GiB, true}, {16 * GiB, false}, {8 * GiB, true}},
                                {{1, 0}, {0, L}, {1, V}, {1, V | C}, {2, L | V}});
    QCOMPARE(memory_type_order(rebar, 0x1F, MemoryUse::DeviceLocal, discrete).front().type, 4u);
    QVERIFY(!device_memory_mapped(no_rebar) && device_memory_mapped(rebar));  // what `devices` says of each
    // DeviceStaged (never mapped) takes plain VRAM first even then; staging and read-back buffers take
    // host-visible memory, cached first.
    QCOMPARE(memory_type_order(rebar, 0x1F, MemoryUse::DeviceStaged, discrete).front().type, 1u);
    QCOMPARE(types_of(memory_type_order(rebar, 0x1F, MemoryUse::Host, discrete), false),
             (std::vector<uint32_t>{3, 2, 4}));
    // An AMD APU on Windows: 512 MiB of device-local carve-out, system memory behind. Device-local first
    // (mapped, as the carve-out is the largest device-local heap), then system memory.
    const auto apu_props = props_of({{512 * MiB, true}, {16 * GiB, false}}, {{0, L}, {1, V}, {1, V | C}, {0, L | V}});
    order = memory_type_order(apu_props, 0xF, MemoryUse::DeviceLocal, apu);
    QVERIFY(device_memory_mapped(apu_props));
    QCOMPARE(types_of(order, false), (std::vector<uint32_t>{3, 0}));
    QCOMPARE(types_of(order, true), (std::vector<uint32_t>{1, 2}));
    // The buffer's allowed types are respected.
    order = memory_type_order(apu_props, 0x6, MemoryUse::DeviceLocal, apu);
    QCOMPARE(types_of(order, false), std::vector<uint32_t>{});
    QCOMPARE(types_of(order, true), (std::vector<uint32_t>{1, 2}));
  }

  // The carried norm is on by default except on MoltenVK (evaluator.h: default_norm_carry), which is known by
  // its driver id (or, from a driver that reports no id, its name); this machine's lavapipe reports its id.
  void norm_carry_default_by_driver() {
    DeviceInfo d;
    d.driver_id = VK_DRIVER_ID_NVIDIA_PROPRIETARY;
    QVERIFY(default_norm_carry(d));
    d.driver_id = VK_DRIVER_ID_MOLTENVK;
    QVERIFY(d.is_moltenvk());
    QVERIFY(!default_norm_carry(d));
    d.driver_id = VkDriverId(0);
    d.driver_name = "MoltenVK";
    QVERIFY(!default_norm_carry(d));
    d.driver_name = "radv";
    QVERIFY(default_norm_carry(d));
    const DeviceInfo& here = gpu.device->info();
    if (here.is_cpu()) QCOMPARE(here.driver_id, VK_DRIVER_ID_MESA_LLVMPIPE);  // CI's lavapipe: the id is read
    QVERIFY(here.driver_id != VkDriverId(0) || here.driver_name.empty());
    QCOMPARE(default_norm_carry(here), !here.is_moltenvk());
  }

  // The subgroup decision on devices this machine does not have (context.h: plan_subgroups): the width is
  // pinned where the driver can pin it, trusted where it is fixed, and the subgroup paths are off where it
  // varies without control or is unknown.
  void subgroup_plan_decisions() {
    auto mk = [](uint32_t reported, uint32_t lo, uint32_t hi, bool control, bool full) {
      DeviceInfo d;
      d.subgroup_size = reported;
      d.subgroup_arithmetic = true;
      d.min_subgroup_size = lo;
      d.max_subgroup_size = hi;
      d.max_compute_workgroup_subgroups = 32;
      d.subgroup_size_control = control;
      d.compute_full_subgroups = full;
      return d;
    };
    // Intel-like (reports 32, compiles SIMD8/16/32) with size control: pinned at the reported width.
    SubgroupPlan p = plan_subgroups(mk(32, 8, 32, true, true));
    QVERIFY(p.enabled && p.pinned && p.full);
    QCOMPARE(p.size, 32u);
    QVERIFY(p.note.find("32 pinned (the device allows 8..32") != std::string::npos);
    // ... and another width on request (PENSER_VK_SUBGROUP_SIZE), a bad request ignored with a word.
    QCOMPARE(plan_subgroups(mk(32, 8, 32, true, true), 16).size, 16u);
    p = plan_subgroups(mk(32, 8, 32, true, true), 64);
    QCOMPARE(p.size, 32u);
    QVERIFY(p.note.find("PENSER_VK_SUBGROUP_SIZE=64 ignored") != std::string::npos);
    QCOMPARE(plan_subgroups(mk(32, 8, 32, true, true), 12).size, 32u);  // not a power of two
    // Intel-like without size control: the width a pipeline gets is the compiler's choice, so off.
    p = plan_subgroups(mk(32, 8, 32, false, false));
    QVERIFY(!p.enabled && !p.pinned);
    QCOMPARE(p.size, 0u);
    QVERIFY(p.note.find("off: the width varies (8..32)") != std::string::npos);
    // NVIDIA: 32..32; pinned where the driver offers control, trusted as a fixed width where it does not.
    p = plan_subgroups(mk(32, 32, 32, true, true));
    QVERIFY(p.enabled && p.pinned && p.full);
    QCOMPARE(p.size, 32u);
    p = plan_subgroups(mk(32, 32, 32, false, false));
    QVERIFY(p.enabled && !p.pinned && !p.full);
    QCOMPARE(p.size, 32u);
    // AMD RDNA (reports 64, runs wave32 or wave64): pinned at 64, or 32 on request; off without control.
    p = plan_subgroups(mk(64, 32, 64, true, true));
    QVERIFY(p.enabled && p.pinned);
    QCOMPARE(p.size, 64u);
    QCOMPARE(plan_subgroups(mk(64, 32, 64, true, true), 32).size, 32u);
    QVERIFY(!plan_subgroups(mk(64, 32, 64, false, true)).enabled);
    // Control without full subgroups: pinned, and the note says full subgroups are not guaranteed.
    p = plan_subgroups(mk(32, 8, 32, true, false));
    QVERIFY(p.enabled && p.pinned && !p.full);
    QVERIFY(p.note.find("not guaranteed") != std::string::npos);
    // lavapipe: 8..8 with control.
    p = plan_subgroups(mk(8, 8, 8, true, true));
    QVERIFY(p.enabled && p.pinned && p.full);
    QCOMPARE(p.size, 8u);
    // A reported width outside the range (a driver bug) is clamped into it, since the pin must lie inside.
    QCOMPARE(plan_subgroups(mk(64, 8, 32, true, true)).size, 32u);
    // No range reported (no VK_EXT_subgroup_size_control): the width is unknown, so off.
    p = plan_subgroups(mk(32, 0, 0, false, false));
    QVERIFY(!p.enabled);
    QVERIFY(p.note.find("reports no subgroup width range") != std::string::npos);
    // No subgroup arithmetic at all.
    DeviceInfo none = mk(32, 32, 32, true, true);
    none.subgroup_arithmetic = false;
    QVERIFY(!plan_subgroups(none).enabled);
  }

  // Pipelines carry the device's pin (VkPipelineShaderStageRequiredSubgroupSizeCreateInfo) and require full
  // subgroups where the workgroup is a multiple of the width; the validation layer (on here) rejects a pin
  // outside min..max, a workgroup over maxComputeWorkgroupSubgroups pinned subgroups, or full subgroups of
  // a workgroup that is not a multiple, so creating them with no message checks the limits too.
  // mul_mm_cm.comp's shape from VK_NV_cooperative_matrix's list (fp16 x fp16 -> fp32 subgroup shapes), as
  // NVIDIA drivers list them (Turing and later: 16x8x16, 16x8x8, 16x16x16 among others) and odd ones.
  void coopmat_shape_choice() {
    using S = DeviceInfo::CoopMatShape;
    auto str = [](std::optional<S> s) { return s ? fmt::format("{}x{}x{}", s->m, s->n, s->k) : std::string("none"); };
    const std::vector<S> nvidia = {{16, 8, 16}, {16, 8, 8}, {16, 16, 16}};
    QCOMPARE(str(choose_coopmat_shape(nvidia, 0)), std::string("16x16x16"));
    QCOMPARE(str(choose_coopmat_shape(nvidia, 8)), std::string("16x8x16"));   // the largest with N = 8
    QCOMPARE(str(choose_coopmat_shape(nvidia, 16)), std::string("16x16x16"));
    QCOMPARE(str(choose_coopmat_shape(nvidia, 32)), std::string("none"));
    QCOMPARE(str(choose_coopmat_shape({}, 0)), std::string("none"));
    // K of 4 (offsets in 8-value units) and sides of 64 (beyond a subgroup's 32 x 32 share) do not fit.
    QCOMPARE(str(choose_coopmat_shape({{16, 16, 4}, {64, 16, 16}, {16, 64, 16}}, 0)), std::string("none"));
    QCOMPARE(str(choose_coopmat_shape({{16, 16, 4}, {8, 8, 8}, {32, 8, 16}}, 0)), std::string("32x8x16"));
    QCOMPARE(str(choose_coopmat_shape({{8, 32, 16}, {32, 8, 16}}, 0)), std::string("8x32x16"));  // tie: the first
  }

  void pipelines_pin_the_subgroup_size() {
    const DeviceInfo& d = gpu.device->info();
    const SubgroupPlan& plan = gpu.device->subgroups();
    QCOMPARE(gpu.device->subgroup_ops(), plan.enabled);
    if (qEnvironmentVariable("VK_ICD_FILENAMES").contains("lvp_icd")) {
      // Mesa 22.3's lavapipe: 8..8 (its 256-bit vectors; LP_NATIVE_VECTOR_WIDTH=128 / 512 give 4 / 16, which
      // test_vulkan_evaluator_4_lanes uses), subgroup size control and full subgroups for compute.
      const uint32_t lanes = qEnvironmentVariableIsSet("LP_NATIVE_VECTOR_WIDTH")
                                 ? qEnvironmentVariable("LP_NATIVE_VECTOR_WIDTH").toUInt() / 32
                                 : 8u;
      QCOMPARE(d.min_subgroup_size, lanes);
      QCOMPARE(d.max_subgroup_size, lanes);
      QVERIFY(d.subgroup_size_control && d.compute_full_subgroups);
      QVERIFY(plan.enabled && plan.pinned && plan.full);
      QCOMPARE(plan.size, lanes);
    }
    if (!plan.pinned) QSKIP("this device cannot pin the subgroup width");
    const uint32_t sg = plan.size, most = d.max_compute_workgroup_subgroups * sg;
    auto make = [&](uint32_t wg) {
      PipelineDesc desc{"soft_max", 1, 1u << 0, sizeof(SoftMaxPush), {wg, 1u}, wg};
      return Pipeline::create(*gpu.device, desc);  // every Ops pipeline is made here too
    };
    auto whole = make(2 * sg);  // two subgroups: pinned, full
    VKT_OK(whole);
    QCOMPARE((*whole)->required_subgroup_size(), sg);
    QCOMPARE((*whole)->full_subgroups(), plan.full);
    if (sg >= 2) {
      auto part = make(sg / 2);  // half a subgroup: pinned, not full (validation would object)
      VKT_OK(part);
      QCOMPARE((*part)->required_subgroup_size(), sg);
      QVERIFY(!(*part)->full_subgroups());
    }
    if (2 * most <= d.max_workgroup_invocations) {
      auto big = make(2 * most);  // more subgroups than a pinned workgroup may hold: not pinned
      VKT_OK(big);
      QCOMPARE((*big)->required_subgroup_size(), 0u);
    }
  }

  // Pipelines made with create_async compile on threads of their own while the recording goes on; the
  // recording's dispatches go into the command buffer at end(), each after its pipeline. One dropped while it
  // still compiles waits for its compile (nothing is freed under the driver); a wait after the compile says
  // the same; the handle and statistics are there after it.
  void pipelines_compile_while_recording() {
    const uint32_t sg = std::max(1u, gpu.device->subgroups().size);
    std::vector<std::unique_ptr<Pipeline>> kept;
    for (uint32_t k = 0; k < 6; ++k) {
      const uint32_t wg = sg << (k % 3);
      PipelineDesc desc{"soft_max", 1, 1u << 0, sizeof(SoftMaxPush), {wg, 1u}, wg};
      auto p = Pipeline::create_async(*gpu.device, desc);
      VKT_OK(p);
      if (k % 2 == 0) kept.push_back(std::move(*p));  // the others go at once, mid-compile
    }
    for (const auto& p : kept) {
      VKT_OK(p->wait());
      VKT_OK(p->wait());
      QVERIFY(p->handle() != VK_NULL_HANDLE);
      QCOMPARE(p->statistics().empty(), !gpu.device->pipeline_statistics());
    }
    // A recording over three new pipelines (a fresh Ops: every pipeline compiles as the ops ask for it).
    auto ops = Ops::create(*gpu.device);
    VKT_OK(ops);
    const uint32_t n = 512;
    std::vector<float> a(n), w(n, 2.0f);
    for (uint32_t i = 0; i < n; ++i) a[i] = float(i % 7) - 3.0f;
    auto ba = make_buffer(*gpu.device, a), bw = make_buffer(*gpu.device, w);
    auto t1 = make_buffer(*gpu.device, nullptr, n * 4), t2 = make_buffer(*gpu.device, nullptr, n * 4);
    auto rec = Recorder::create(*gpu.device);
    VKT_OK(rec);
    Recorder& r = **rec;
    VKT_OK(r.begin());
    VKT_OK((*ops)->add(r, view(*ba), view(*ba), view(*t1), n, n));                      // t1 = 2a
    VKT_OK((*ops)->rms_norm(r, view(*t1), view(*t2), nullptr, n, 1, 1e-6f));            // t2 = t1 / rms(t1)
    VKT_OK((*ops)->swiglu(r, view(*t2), view(*bw), view(*t1), n));                     // t1 = silu(t2) * 2
    {  // A load being abandoned (VulkanEvaluator): end() with its stop flag set fails at once, the recorder
       // unended; the same dispatches again on a fresh Ops, whose pipelines compile anew, then end as usual.
      auto ops2 = Ops::create(*gpu.device);
      VKT_OK(ops2);
      auto rec2 = Recorder::create(*gpu.device);
      VKT_OK(rec2);
      VKT_OK((*rec2)->begin());
      VKT_OK((*ops2)->add(**rec2, view(*ba), view(*ba), view(*t1), n, n));
      const std::atomic<bool> stop{true};
      const Status st = (*rec2)->end(&stop);
      QVERIFY(!st);
      QVERIFY2(st.error().message.find("stopped") != std::string::npos, st.error().message.c_str());
    }
    const std::atomic<bool> go{false};
    VKT_OK(r.end(&go));
    QCOMPARE(r.dispatches(), 3u);
    QCOMPARE(r.barriers(), 2u);
    VKT_OK(r.submit_and_wait());
    double ss = 0;
    for (float x : a) ss += double(2 * x) * (2 * x);
    const double rms = std::sqrt(ss / n + 1e-6);
    const auto out = read_back<float>(*t1, n);
    for (uint32_t i = 0; i < n; ++i) {
      const double x = 2 * a[i] / rms, want = 2 * x / (1 + std::exp(-x));
      QVERIFY2(std::abs(out[i] - want) < 1e-4, qPrintable(QString("%1: %2 against %3").arg(i).arg(out[i]).arg(want)));
    }
  }

  // Pipeline::abandon (Ops::~Ops marks every pipeline so): compiles still waiting for one of the process's
  // slots (one per hardware thread) never start, and their wait() says so; those under way finish. 8 per
  // hardware thread asked for at once and abandoned at once: without abandon all would compile (the test
  // failed so), with it about one per slot does.
  void abandoned_compiles_never_start() {
    const uint32_t sg = std::max(1u, gpu.device->subgroups().size);
    const uint32_t n_slots = std::max(1u, std::thread::hardware_concurrency()), n = 8 * n_slots;
    const uint64_t before = vulkan::pipelines_compiled();
    std::vector<std::unique_ptr<Pipeline>> ps;
    for (uint32_t k = 0; k < n; ++k) {
      const uint32_t wg = sg << (k % 3);
      auto p = Pipeline::create_async(*gpu.device, {"soft_max", 1, 1u << 0, sizeof(SoftMaxPush), {wg, 1u}, wg});
      VKT_OK(p);
      ps.push_back(std::move(*p));
    }
    for (auto& p : ps) p->abandon();
    uint32_t skipped = 0;
    for (auto& p : ps) {
      const Status st = p->wait();
      if (!st) {
        QVERIFY2(st.error().message.find("VK_NOT_READY") != std::string::npos, st.error().message.c_str());
        ++skipped;
      }
    }
    const uint64_t compiled = vulkan::pipelines_compiled() - before;
    ps.clear();
    qInfo("%u asked for, %llu compiled, %u skipped (%u slots)", n, static_cast<unsigned long long>(compiled), skipped, n_slots);
    QVERIFY(compiled + skipped >= uint64_t(n));  // each compiled or skipped (the counter is the process's)
    QVERIFY2(skipped >= n / 2, qPrintable(QString("only %1 of %2 skipped").arg(skipped).arg(n)));
  }

  // The validation layer is on in tests and its messages are counted: a deliberate misuse is caught.
  void validation_catches_misuse() {
    if (!gpu.instance->validation_enabled()) PENSER_SKIP_UNLESS_CI("VK_LAYER_KHRONOS_validation is not installed");
    auto inst = Instance::create({.validation = true});
    VKT_OK(inst);
    auto dev = Device::create(**inst, gpu.device->info().index);
    VKT_OK(dev);
    VkBufferCreateInfo bci{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
    bci.size = 0;  // VUID-VkBufferCreateInfo-size-00912: size must be greater than 0
    bci.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
    VkBuffer buf = VK_NULL_HANDLE;
    if (vkCreateBuffer((*dev)->handle(), &bci, nullptr, &buf) == VK_SUCCESS && buf)
      vkDestroyBuffer((*dev)->handle(), buf, nullptr);
    QVERIFY((*inst)->validation_errors() > 0);
    QCOMPARE(vkt::take_new_faults().validation, 1u);  // counted for the process too (what fails the suites)
  }

  // The suites' instances run the layer's synchronization validation: a write then a read of one buffer with
  // no barrier between is reported (lavapipe would give the right bytes anyway), and the same with the
  // barrier is not.
  void sync_validation_sees_a_missing_barrier() {
    if (!gpu.instance->validation_enabled()) PENSER_SKIP_UNLESS_CI("VK_LAYER_KHRONOS_validation is not installed");
    if (qgetenv("PENSER_VULKAN_SYNC_VALIDATION") == "0") QSKIP("PENSER_VULKAN_SYNC_VALIDATION=0 turns it off");
    QVERIFY(gpu.instance->sync_validation_enabled());
    for (const bool with_barrier : {true, false}) {
      auto inst = Instance::create({.validation = true});
      VKT_OK(inst);
      QVERIFY((*inst)->sync_validation_enabled());
      auto dev = Device::create(**inst, gpu.device->info().index);
      VKT_OK(dev);
      auto a = Buffer::create(**dev, 4096, MemoryUse::DeviceLocal, "a");
      auto b = Buffer::create(**dev, 4096, MemoryUse::DeviceLocal, "b");
      VKT_OK(a);
      VKT_OK(b);
      VKT_OK((*dev)->run_once("a fill then a copy", [&](VkCommandBuffer cmd) {
        vkCmdFillBuffer(cmd, (*a)->handle(), 0, 4096, 7);
        if (with_barrier) {
          VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
          mb.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
          mb.dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT;
          vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &mb, 0,
                               nullptr, 0, nullptr);
        }
        const VkBufferCopy region{0, 0, 4096};
        vkCmdCopyBuffer(cmd, (*a)->handle(), (*b)->handle(), 1, &region);
      }));
      bool hazard = false;
      for (const std::string& m : (*inst)->validation_messages()) hazard |= m.find("SYNC-HAZARD") != std::string::npos;
      QCOMPARE(hazard, !with_barrier);
      QCOMPARE((*inst)->validation_errors() > 0, !with_barrier);
      uint32_t word = 0;
      VKT_OK((*b)->read(0, &word, 4));
      QCOMPARE(word, 7u);  // lavapipe got it right without the barrier: only the layer sees the fault
    }
    QCOMPARE(vkt::take_new_faults().validation, 1u);  // the hazard, counted for the process too
  }

  // The decode product's rows per workgroup on GPUs (mul_mv_gpu_rows): 4, halved below 128 workgroups (a
  // 1.5B model's 256-row K/V: 2); with PENSER_VK_MUL_MV_ROWS_BIG=8 the matrices that keep 1024 workgroups
  // of 8 rows (an 8B model's 28672-row gate|up, a 1.5B model's 17920-row one, the outputs) take 8, the rest 4.
  void decode_rows_per_workgroup_on_gpus() {
    QCOMPARE(mul_mv_gpu_rows(4096, 0), 4u);
    QCOMPARE(mul_mv_gpu_rows(256, 0), 2u);
    QCOMPARE(mul_mv_gpu_rows(100, 0), 1u);
    QCOMPARE(mul_mv_gpu_rows(28672, 0), 4u);
    QCOMPARE(mul_mv_gpu_rows(28672, 8), 8u);
    QCOMPARE(mul_mv_gpu_rows(17920, 8), 8u);
    QCOMPARE(mul_mv_gpu_rows(151936, 8), 8u);
    QCOMPARE(mul_mv_gpu_rows(6144, 8), 4u);  // an 8B model's Q|K|V: 768 workgroups of 8
    QCOMPARE(mul_mv_gpu_rows(1536, 8), 4u);
    QCOMPARE(mul_mv_gpu_rows(256, 8), 2u);
    QCOMPARE(mul_mv_gpu_rows(28672, 2), 4u);  // fewer than 4: the default stands
  }

  // PENSER_VK_PIPELINE_STATS=1: a device with VK_KHR_pipeline_executable_properties captures each pipeline's
  // compiler statistics (the GPU script reads the decode products' registers from them); one without it
  // (lavapipe 22.3) says so and makes its pipelines as always. Unset: nothing is captured.
  void pipeline_statistics_where_asked() {
    for (const bool asked : {true, false}) {
      if (asked) qputenv("PENSER_VK_PIPELINE_STATS", "1");
      auto dev = Device::create(*gpu.instance, gpu.device->info().index);
      qunsetenv("PENSER_VK_PIPELINE_STATS");
      VKT_OK(dev);
      QCOMPARE((*dev)->pipeline_statistics(), asked && gpu.device->info().pipeline_statistics);
      const uint32_t wg = 64;
      PipelineDesc desc{"soft_max", 1, 1u << 0, sizeof(SoftMaxPush), {wg, (*dev)->subgroup_ops() ? 1u : 0u}, wg};
      auto p = Pipeline::create(**dev, desc);
      VKT_OK(p);
      if ((*dev)->pipeline_statistics()) {
        QVERIFY(!(*p)->statistics().empty());
        for (const std::string& line : (*p)->statistics()) QVERIFY2(line.find(':') != std::string::npos, line.c_str());
        qDebug("%s", (*p)->statistics().front().c_str());
      } else {
        QVERIFY((*p)->statistics().empty());
      }
    }
  }

  // PENSER_VK_TEST_POISON (set for every suite by CTest): a new buffer reads as 0xff bytes (NaN as f32 and
  // f16), mapped or not; what the code writes reads back as written.
  void new_buffers_are_poisoned_in_tests() {
    auto dev = Device::create(*gpu.instance, gpu.device->info().index);
    VKT_OK(dev);
    for (const bool poison : {false, true}) {  // off: whatever the driver hands out
      (*dev)->poison_new_buffers_for_tests(poison);
      for (const MemoryUse use : {MemoryUse::DeviceLocal, MemoryUse::DeviceStaged, MemoryUse::Host}) {
        auto b = Buffer::create(**dev, 4096, use, "a test buffer");
        VKT_OK(b);
        if (poison) {
          for (uint32_t w : read_back<uint32_t>(**b, 1024)) QCOMPARE(w, 0xffffffffu);
          QVERIFY(std::isnan(read_back<float>(**b, 1)[0]));
        }
        const std::vector<float> one(16, 1.0f);
        VKT_OK((*b)->write(64, one.data(), 64));
        QCOMPARE(read_back<float>(**b, 1, 64)[0], 1.0f);
      }
    }
  }

  // With the poison (CTest), a binding that reaches its buffer's end reaches into a poisoned guard: a shader
  // reading past the end reads NaN, as it would read another tensor's bytes or garbage on a GPU (lavapipe
  // answers a read outside the binding with 0, which can pass for right), and one writing past it is reported
  // when the buffer goes (a GPU would have overwritten a neighbour; lavapipe drops the write).
  void reads_and_writes_past_a_buffer_end_are_seen() {
    auto dev = Device::create(*gpu.instance, gpu.device->info().index);
    VKT_OK(dev);
    auto ops = Ops::create(**dev);
    VKT_OK(ops);
    constexpr uint32_t n = 256, small = 64;
    const std::vector<float> a(n, 1.0f), b(small, 2.0f);
    for (const bool poison : {false, true}) {
      (*dev)->poison_new_buffers_for_tests(poison);
      auto ab = make_buffer(**dev, a), bb = make_buffer(**dev, b), yb = make_buffer(**dev, nullptr, n * 4);
      QCOMPARE(bb->guard(), poison ? kPoisonGuard : 0);
      // Reads: b holds 64 floats, the shader reads b[i % 256].
      run_recorded(**dev, [&](Recorder& rec) { VKT_OK((*ops)->add(rec, view(*ab), view(*bb), view(*yb), n, n)); });
      auto y = read_back<float>(*yb, n);
      QCOMPARE(y[small - 1], 3.0f);
      if (poison) QVERIFY(std::isnan(y[small]) && std::isnan(y[n - 1]));
      else QCOMPARE(y[n - 1], 1.0f);  // lavapipe's zero: a wrong sum that looks like a number
      // Writes: y2 holds 64 floats, the shader writes 256.
      const uint64_t before = out_of_bounds_writes_seen();
      {
        auto y2 = make_buffer(**dev, nullptr, small * 4);
        run_recorded(**dev, [&](Recorder& rec) { VKT_OK((*ops)->add(rec, view(*ab), view(*ab), view(*y2), n, n)); });
        QCOMPARE(read_back<float>(*y2, small)[small - 1], 2.0f);
      }
      QCOMPARE(out_of_bounds_writes_seen() - before, poison ? 1u : 0u);
    }
    const vkt::NewFaults f = vkt::take_new_faults();  // the write past the end, counted for the process
    QCOMPARE(f.out_of_bounds, 1u);
    QCOMPARE(f.validation, 0u);
  }

  // Device::wide_bindings (PENSER_VK_TEST_WIDE_BINDINGS, CTest's 4-lane evaluator run): a binding in the
  // middle of a buffer reaches to its end, so a read past it reads the neighbouring values as a GPU would;
  // without it lavapipe answers 0 there.
  void wide_bindings_read_past_a_binding_as_a_gpu_does() {
    auto dev = Device::create(*gpu.instance, gpu.device->info().index);
    VKT_OK(dev);
    auto ops = Ops::create(**dev);
    VKT_OK(ops);
    constexpr uint32_t n = 256, bound = 64;
    std::vector<float> a(n, 1.0f), b(n);
    std::iota(b.begin(), b.end(), 0.0f);
    for (const bool wide : {false, true}) {
      (*dev)->wide_bindings_for_tests(wide);
      auto ab = make_buffer(**dev, a), bb = make_buffer(**dev, b), yb = make_buffer(**dev, nullptr, n * 4);
      const View bv{bb->range(0, bound * 4), 0};  // 64 of the buffer's 256 floats
      run_recorded(**dev, [&](Recorder& rec) { VKT_OK((*ops)->add(rec, view(*ab), bv, view(*yb), n, n)); });
      const auto y = read_back<float>(*yb, n);
      QCOMPARE(y[bound - 1], float(bound));
      QCOMPARE(y[n - 1], wide ? float(n) : 1.0f);  // b[255] read past the binding: 255, or lavapipe's 0
    }
  }

  // PENSER_VK_TEST_OFFSET_ALIGNMENT (CTest's 4- and 16-lane runs): a device made while it is set asks a
  // stricter binding offset alignment than its driver, for storage, uniform and texel bindings; a value that
  // is not a power of two is ignored.
  void offset_alignment_knob() {
    const QByteArray before = qgetenv("PENSER_VK_TEST_OFFSET_ALIGNMENT");
    const DeviceInfo& driver = gpu.instance->devices()[gpu.device->info().index];
    for (const char* value : {"1024", "100"}) {
      qputenv("PENSER_VK_TEST_OFFSET_ALIGNMENT", value);
      auto dev = Device::create(*gpu.instance, gpu.device->info().index);
      VKT_OK(dev);
      const DeviceInfo& i = (*dev)->info();
      const uint64_t want = std::strcmp(value, "1024") == 0 ? 1024 : driver.min_storage_offset_alignment;
      QCOMPARE(i.min_storage_offset_alignment, std::max<uint64_t>(want, driver.min_storage_offset_alignment));
      if (want == 1024) QCOMPARE(i.min_uniform_offset_alignment, std::max<uint64_t>(1024, driver.min_uniform_offset_alignment));
      if (want == 1024) QCOMPARE(i.min_texel_offset_alignment, std::max<uint64_t>(1024, driver.min_texel_offset_alignment));
    }
    if (before.isNull()) qunsetenv("PENSER_VK_TEST_OFFSET_ALIGNMENT");
    else qputenv("PENSER_VK_TEST_OFFSET_ALIGNMENT", before);
  }

  void errors_are_named() {
    const Error e = vk_error(VK_ERROR_DEVICE_LOST, "running the decode step");
    QVERIFY(e.message.find("running the decode step failed: VK_ERROR_DEVICE_LOST") == 0);
    QVERIFY(e.message.find("CPU backend") != std::string::npos);
    QCOMPARE(std::string(result_name(VK_ERROR_OUT_OF_DEVICE_MEMORY)), std::string("VK_ERROR_OUT_OF_DEVICE_MEMORY"));
  }

  // A lost device (the fault-injection count here: lavapipe cannot lose one) fails every submission from then
  // on with VK_ERROR_DEVICE_LOST without submitting, says so (lost()), and tears down without hanging.
  void lost_device_fails_every_later_submission() {
    auto dev = Device::create(*gpu.instance, gpu.device->info().index);
    VKT_OK(dev);
    Device& d = **dev;
    d.lose_after_for_tests(1);
    // Counted submissions only: the poison's fill of a staged buffer would be one more (CTest sets it).
    d.poison_new_buffers_for_tests(false);
    auto nothing = [](VkCommandBuffer) {};
    VKT_OK(d.run_once("the first", nothing));
    QVERIFY(!d.lost());
    for (const char* what : {"the second", "the third"}) {
      const Status s = d.run_once(what, nothing);
      QVERIFY(!s);
      const std::string expected = std::string("submitting ") + what + " failed: VK_ERROR_DEVICE_LOST";
      QVERIFY2(s.error().message.find(expected) == 0, s.error().message.c_str());
      QVERIFY(d.lost());
      QVERIFY(!d.hung());
    }
    // An upload through staging (as on a discrete GPU, where loading a model submits): the load fails
    // with the same error.
    auto staged = Buffer::create(d, 256, MemoryUse::DeviceStaged, "a weight");
    VKT_OK(staged);
    const std::vector<uint8_t> bytes(256, 7);
    const Status up = (*staged)->write(0, bytes.data(), bytes.size());
    QVERIFY(!up);
    QVERIFY2(up.error().message.find("submitting an upload to the GPU failed: VK_ERROR_DEVICE_LOST") == 0,
             up.error().message.c_str());
    staged->reset();
    QVERIFY(d.settle());
    QElapsedTimer t;
    t.start();
    dev->reset();
    QVERIFY(t.elapsed() < 5000);
  }

  // The hang time-out counts as a lost device, and settle() waits for the timed-out work before anything it
  // uses may be freed: a fill of 4 x 64 MiB waited for 1 ns times out, then finishes.
  void hang_time_out_counts_as_lost() {
    auto dev = Device::create(*gpu.instance, gpu.device->info().index);
    VKT_OK(dev);
    Device& d = **dev;
    constexpr uint64_t kBytes = 64ull << 20;
    auto buf = Buffer::create(d, kBytes, MemoryUse::DeviceLocal, "a fill target");
    VKT_OK(buf);
    VkCommandPoolCreateInfo pci{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
    pci.queueFamilyIndex = d.queue_family();
    VkCommandPool pool = VK_NULL_HANDLE;
    QCOMPARE(vkCreateCommandPool(d.handle(), &pci, nullptr, &pool), VK_SUCCESS);
    VkCommandBufferAllocateInfo ai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
    ai.commandPool = pool;
    ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    ai.commandBufferCount = 1;
    VkCommandBuffer cmd = VK_NULL_HANDLE;
    QCOMPARE(vkAllocateCommandBuffers(d.handle(), &ai, &cmd), VK_SUCCESS);
    VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    QCOMPARE(vkBeginCommandBuffer(cmd, &bi), VK_SUCCESS);
    for (uint32_t i = 0; i < 4; ++i) {
      if (i > 0) {  // ordered, as synchronization validation requires of writes to the same bytes
        VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
        mb.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
        mb.dstAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
        vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &mb, 0,
                             nullptr, 0, nullptr);
      }
      vkCmdFillBuffer(cmd, (*buf)->handle(), 0, VK_WHOLE_SIZE, i);
    }
    QCOMPARE(vkEndCommandBuffer(cmd), VK_SUCCESS);
    const Status s = d.submit_and_wait(cmd, "a long fill", 1);
    QVERIFY(!s);
    QVERIFY2(s.error().message.find("did not finish") != std::string::npos, s.error().message.c_str());
    QVERIFY(d.lost());
    QVERIFY(d.hung());
    const Status again = d.submit_and_wait(cmd, "a second fill");  // refused at once, the queue untouched
    QVERIFY(!again);
    QVERIFY2(again.error().message.find("VK_ERROR_DEVICE_LOST") != std::string::npos, again.error().message.c_str());
    QVERIFY(d.settle(600'000'000'000ull));  // lavapipe does finish the fill
    vkDestroyCommandPool(d.handle(), pool, nullptr);
    buf->reset();
    dev->reset();
  }

  void memory_estimate_names_both_figures() {
    const uint64_t have = gpu.device->info().device_local_bytes;
    VKT_OK(gpu.device->check_fits(have / 4, "the model and its context"));
    const Status s = gpu.device->check_fits(have * 2, "the model and its context");
    QVERIFY(!s);
    QVERIFY2(s.error().message.find(format_bytes(have * 2)) != std::string::npos, s.error().message.c_str());
    QVERIFY2(s.error().message.find(format_bytes(have)) != std::string::npos, s.error().message.c_str());
  }

  void allocation_over_the_limit_is_an_error() {
    const uint64_t limit = gpu.device->info().max_memory_allocation_size;
    auto b = Buffer::create(*gpu.device, limit + 4096, MemoryUse::DeviceLocal, "token_embd.weight");
    QVERIFY(!b);
    QVERIFY2(b.error().message.find("token_embd.weight") != std::string::npos, b.error().message.c_str());
    QVERIFY(b.error().message.find(format_bytes(limit)) != std::string::npos);
  }

  void upload_and_read_back_data() { QTest::addColumn<int>("use"); QTest::newRow("direct") << int(MemoryUse::DeviceLocal);
    QTest::newRow("staged") << int(MemoryUse::DeviceStaged); }
  void upload_and_read_back() {
    QFETCH(int, use);
    // Larger than one staging chunk, odd length: exercises the chunk loop and its tail.
    const uint64_t n = kStagingChunk + 12345;
    std::vector<uint8_t> data(n);
    for (uint64_t i = 0; i < n; ++i) data[i] = uint8_t((i * 2654435761u) >> 13);
    auto b = make_buffer(*gpu.device, data.data(), n, MemoryUse(use));
    QCOMPARE(b->mapped() != nullptr, MemoryUse(use) == MemoryUse::DeviceLocal && gpu.device->info().device_memory_mapped &&
                                         !gpu.device->unmapped_device_memory());
    std::vector<uint8_t> back(n);
    VKT_OK(b->read(0, back.data(), n));
    QVERIFY(back == data);
    std::vector<uint8_t> part(1000);
    VKT_OK(b->read(n - 1000, part.data(), 1000));
    QVERIFY(std::equal(part.begin(), part.end(), data.end() - 1000));
    if (b->mapped()) return;
    // Every copy through staging reuses the device's staging buffer (Device::staging_buffer): one
    // allocation of a whole chunk for all the copies above and below, until it is released.
    const uint64_t made = gpu.device->staging_allocations();
    VKT_OK(b->write(7, data.data(), 100));
    VKT_OK(b->read(0, back.data(), 200));
    QCOMPARE(back[7 + 50], data[50]);
    QCOMPARE(gpu.device->staging_allocations(), made);
    gpu.device->release_staging();
    VKT_OK(b->read(0, back.data(), 200));
    QCOMPARE(gpu.device->staging_allocations(), made + 1);
    // Two copies at once take a staging buffer each (a load's writes on several threads: one fills while
    // the other's transfer runs); a third waits until one is returned, then gets that one.
    {
      auto first = gpu.device->lend_staging(100);
      VKT_OK(first);
      auto second = gpu.device->lend_staging(100);
      VKT_OK(second);
      QVERIFY(first->buffer() != second->buffer());
      QCOMPARE(gpu.device->staging_allocations(), made + 2);
      Buffer* const returned = second->buffer();
      auto third = std::async(std::launch::async, [&] { return gpu.device->lend_staging(100); });
      QVERIFY(third.wait_for(std::chrono::milliseconds(100)) == std::future_status::timeout);  // none free
      { auto gone = std::move(*second); }  // returned
      auto got = third.get();
      VKT_OK(got);
      QCOMPARE(got->buffer(), returned);
      QCOMPARE(gpu.device->staging_allocations(), made + 2);
    }
    // Copies through staging on several threads at once: each lands where it should.
    std::vector<uint8_t> fresh(4 * 4096);
    for (size_t i = 0; i < fresh.size(); ++i) fresh[i] = uint8_t(~data[i] ^ (i >> 12));  // unlike what b holds
    std::vector<std::future<Status>> writes;
    for (int t = 0; t < 4; ++t)
      writes.push_back(std::async(std::launch::async, [&, t] { return b->write(uint64_t(t) * 4096, fresh.data() + t * 4096, 4096); }));
    for (auto& w : writes) VKT_OK(w.get());
    VKT_OK(b->read(0, back.data(), 4 * 4096));
    QVERIFY(std::equal(fresh.begin(), fresh.end(), back.begin()));
    QVERIFY(gpu.device->staging_allocations() <= made + 2);
  }

  void every_shader_is_embedded() {
    QVERIFY(embedded_shaders().size() >= 37);
    for (const EmbeddedShader& s : embedded_shaders()) {
      QVERIFY(s.n_words > 5);
      QCOMPARE(s.words[0], 0x07230203u);  // SPIR-V magic
    }
    QVERIFY(find_shader("mul_mv_q4_k") != nullptr);
    QVERIFY(find_shader("nope") == nullptr);
  }

  // A module may declare only capabilities the device supports, even on a path a specialization constant
  // turns off. So every SPIR-V capability of every embedded module is either required of every usable
  // device (context.cpp: 16-bit storage, subgroup arithmetic; Vulkan 1.1: basic subgroups, texel buffers) or
  // belongs to a module family the ops pick only where the device has it (64-bit integers: the CPU
  // implementations' _i64 / _il / mul_mm_cpu modules and the probe's int64 reads; ballot: mul_mm_cpu;
  // fp16, the memory model and cooperative matrices: mul_mm_cm where coopmat_usable; integer dot products:
  // mul_mv's _q8x modules where Device::integer_dot_product). A new capability
  // fails here until usable() or an op's gate covers it.
  void shader_capabilities_are_covered() {
    enum : uint32_t {
      kShader = 1, kFloat16 = 9, kInt64 = 11, kSampledBuffer = 46, kGroupNonUniform = 61,
      kGroupNonUniformArithmetic = 63, kGroupNonUniformBallot = 64, kStorageBuffer16BitAccess = 4433,
      kVulkanMemoryModel = 5345, kCooperativeMatrixNV = 5357, kDotProductInput4x8BitPacked = 6018,
      kDotProduct = 6019,
    };
    auto has = [](std::string_view name, std::initializer_list<std::string_view> parts) {
      return std::any_of(parts.begin(), parts.end(), [&](std::string_view p) { return name.find(p) != name.npos; });
    };
    std::map<uint32_t, int> seen;
    for (const EmbeddedShader& m : embedded_shaders()) {
      const std::string_view name = m.name;
      for (size_t i = 5; i < m.n_words;) {  // after the header: instructions, word count << 16 | opcode
        const uint32_t count = m.words[i] >> 16, opcode = m.words[i] & 0xFFFFu;
        QVERIFY2(count > 0 && i + count <= m.n_words, m.name);
        if (opcode == 17) {  // OpCapability
          const uint32_t cap = m.words[i + 1];
          ++seen[cap];
          bool ok = false;
          switch (cap) {
            case kShader: case kSampledBuffer: case kGroupNonUniform: case kGroupNonUniformArithmetic:
            case kStorageBuffer16BitAccess:
              ok = true;  // every usable device
              break;
            case kInt64:
              ok = has(name, {"_i64", "_il", "mul_mm_cpu_", "probe_read_int64"});
              break;
            case kGroupNonUniformBallot:
              ok = has(name, {"mul_mm_cpu_"});
              break;
            case kFloat16: case kVulkanMemoryModel: case kCooperativeMatrixNV:
              ok = has(name, {"mul_mm_cm_"}) && !has(name, {"_emu"});
              break;
            case kDotProduct: case kDotProductInput4x8BitPacked:
              ok = has(name, {"_q8x"});  // Ops::mul_mv: only where the device enabled shaderIntegerDotProduct
              break;
          }
          QVERIFY2(ok, qPrintable(QString("%1 declares capability %2, which no device requirement or op gate covers")
                                      .arg(m.name).arg(cap)));
        }
        i += count;
      }
    }
    // The scan saw the families it is about (a parser that read nothing would pass vacuously).
    QVERIFY(seen[kShader] == int(embedded_shaders().size()));
    QVERIFY(seen[kGroupNonUniformArithmetic] > 10 && seen[kInt64] > 10 && seen[kCooperativeMatrixNV] > 0 &&
            seen[kDotProduct] == 3);
    // The requirements behind "every usable device": this device meets them, and one lacking 16-bit storage
    // or subgroup arithmetic is refused with a reason.
    DeviceInfo d = gpu.device->info();
    QCOMPARE(unusable_reason(d), std::string());
    d.subgroup_arithmetic = false;
    QVERIFY(unusable_reason(d).find("subgroup arithmetic") != std::string::npos);
    d = gpu.device->info();
    d.storage_16bit = false;
    QVERIFY(unusable_reason(d).find("16-bit storage") != std::string::npos);
  }

  // Where the device enables the Vulkan memory model (with the cooperative matrices, on NVIDIA), every
  // pipeline is checked against it, and one whose module uses Device scope (memoryBarrierBuffer(), a buffer
  // atomic: the matrix-vector products, which carry the norm; the split attention) is invalid unless
  // vulkanMemoryModelDeviceScope is enabled too. The first H200 run with the cooperative matrices failed every
  // suite on it (VUID-RuntimeSpirv-vulkanMemoryModel-06265). Lavapipe has the memory model: the test knob
  // turns it on here, and a product runs under the validation layer (CTest's 4-lane evaluator run runs the
  // whole model so).
  void products_valid_with_the_memory_model() {
    if (!gpu.device->info().memory_model) QSKIP("the device has no Vulkan memory model with Device scope");
    QCOMPARE(gpu.device->memory_model(), gpu.device->cooperative_matrix());  // off by default without them
    qputenv("PENSER_VK_TEST_MEMORY_MODEL", "1");
    auto device = Device::create(*gpu.instance, gpu.device->info().index);
    qunsetenv("PENSER_VK_TEST_MEMORY_MODEL");
    VKT_OK(device);
    QVERIFY((*device)->memory_model());
    auto ops = Ops::create(**device);
    VKT_OK(ops);
    constexpr uint32_t ncols = 40, nrows = 9;
    std::vector<float> w(ncols * nrows), x(ncols);
    for (size_t i = 0; i < w.size(); ++i) w[i] = float(int(i % 7) - 3);
    for (uint32_t i = 0; i < ncols; ++i) x[i] = float(i % 5) * 0.5f;
    auto wb = make_buffer(**device, w), xb = make_buffer(**device, x), yb = make_buffer(**device, std::vector<float>(nrows));
    const uint64_t errors_before = gpu.instance->validation_errors();
    auto rec = Recorder::create(**device);
    VKT_OK(rec);
    VKT_OK((*rec)->begin());
    VKT_OK((*ops)->mul_mv(**rec, Matrix{wb.get(), 0, quant::Type::F32, ncols, nrows}, view(*xb), view(*yb)));
    VKT_OK((*rec)->end());
    VKT_OK((*rec)->submit_and_wait());
    const auto y = read_back<float>(*yb, nrows);
    for (uint32_t r = 0; r < nrows; ++r) {
      float want = 0;
      for (uint32_t c = 0; c < ncols; ++c) want += w[r * ncols + c] * x[c];
      QCOMPARE(y[r], want);  // small integers and halves: exact in any order
    }
    QCOMPARE(gpu.instance->validation_errors(), errors_before);
  }

  // Every barrier, memory barriers included, stands in uniform control flow (shaders/check_barriers.py: on
  // Apple GPUs MoltenVK makes a memory barrier an execution barrier every thread must reach). The script's
  // self-test first: it flags the patterns it is for (the carried norm's fences as they were).
  void shader_barriers_in_uniform_control_flow() {
    for (const QStringList& args : {QStringList{QStringLiteral("--self-test")},
                                    QStringList{QStringLiteral(PENSER_TEST_SOURCE_DIR "/../../shaders")}}) {
      QProcess py;
      py.setProcessChannelMode(QProcess::MergedChannels);
      py.start(QStringLiteral(PENSER_PYTHON3),
               QStringList{QStringLiteral(PENSER_TEST_SOURCE_DIR "/../../shaders/check_barriers.py")} + args);
      QVERIFY2(py.waitForFinished(60000), "check_barriers.py did not finish");
      QVERIFY2(py.exitStatus() == QProcess::NormalExit && py.exitCode() == 0, py.readAll().constData());
    }
  }

  // Three dependent adds and one independent: the recorder puts barriers only before dependent dispatches,
  // and a recording submitted twice computes twice.
  void barriers_only_where_data_depends() {
    auto ops = Ops::create(*gpu.device);
    VKT_OK(ops);
    const uint32_t n = 1000;
    std::vector<float> a(n), b(n);
    for (uint32_t i = 0; i < n; ++i) { a[i] = float(i); b[i] = 1.0f; }
    auto ba = make_buffer(*gpu.device, a), bb = make_buffer(*gpu.device, b);
    auto t1 = make_buffer(*gpu.device, nullptr, n * 4), t2 = make_buffer(*gpu.device, nullptr, n * 4),
         other = make_buffer(*gpu.device, nullptr, n * 4);
    auto rec = Recorder::create(*gpu.device);
    VKT_OK(rec);
    Recorder& r = **rec;
    VKT_OK(r.begin());
    VKT_OK((*ops)->add(r, view(*ba), view(*bb), view(*t1), n, n));      // t1 = a + 1
    VKT_OK((*ops)->add(r, view(*ba), view(*bb), view(*other), n, n));   // independent: no barrier
    VKT_OK((*ops)->add(r, view(*t1), view(*bb), view(*t2), n, n));      // reads t1: barrier
    VKT_OK((*ops)->add(r, view(*t2), view(*t2), view(*t1), n, n));      // writes t1 (read before), reads t2: barrier
    VKT_OK(r.end());
    QCOMPARE(r.dispatches(), 4u);
    QCOMPARE(r.barriers(), 2u);
    VKT_OK(r.submit_and_wait());
    auto out = read_back<float>(*t1, n);
    for (uint32_t i = 0; i < n; ++i) QCOMPARE(out[i], 2.0f * (float(i) + 2.0f));
    VKT_OK(r.submit_and_wait());  // again: t1 = 2 * (a + 2) is recomputed from a, same result
    out = read_back<float>(*t1, n);
    QCOMPARE(out[7], 18.0f);
  }

  // A recording that begins with copies (Recorder::begin(copies): the decode step's inputs from host memory
  // where the device's is not mapped): its dispatches read what was copied, with no barrier of its own, and
  // each submission of the same recording copies the host buffer's values of that moment
  // (synchronization validation checks the ordering within and across submissions).
  void recordings_begin_with_copies() {
    auto ops = Ops::create(*gpu.device);
    VKT_OK(ops);
    const uint32_t n = 300;
    std::vector<float> a(n), b(n, 1.0f);
    for (uint32_t i = 0; i < n; ++i) a[i] = float(i);
    auto host = Buffer::create(*gpu.device, n * 4 + 64, MemoryUse::Host, "inputs");
    VKT_OK(host);
    auto in = Buffer::create(*gpu.device, n * 4, MemoryUse::DeviceStaged, "copied inputs");
    VKT_OK(in);
    QVERIFY((*in)->mapped() == nullptr);
    auto bb = make_buffer(*gpu.device, b), out = make_buffer(*gpu.device, nullptr, n * 4);
    auto rec = Recorder::create(*gpu.device);
    VKT_OK(rec);
    Recorder& r = **rec;
    // Two copies into one buffer: the first 100 floats from the host buffer's start, the rest from 64 bytes on.
    VKT_OK(r.begin({{(*host)->range(0, 400), (*in)->range(0, 400)}, {(*host)->range(464, n * 4 - 400), (*in)->range(400, n * 4 - 400)}}));
    VKT_OK((*ops)->add(r, view(**in), view(*bb), view(*out), n, n));  // out = in + 1
    VKT_OK(r.end());
    QCOMPARE(r.dispatches(), 1u);
    QCOMPARE(r.barriers(), 0u);
    for (float scale : {1.0f, -3.0f}) {
      std::vector<float> h(n + 16, 1e9f);  // floats 100..115 are skipped: 1e9 would show
      for (uint32_t i = 0; i < n; ++i) h[i < 100 ? i : i + 16] = scale * a[i];
      VKT_OK((*host)->write(0, h.data(), h.size() * 4));
      VKT_OK(r.submit_and_wait());
      const auto got = read_back<float>(*out, n);
      for (uint32_t i = 0; i < n; ++i) QCOMPARE(got[i], scale * float(i) + 1.0f);
    }
  }

  // GPU timestamps (bench --profile): one total per dispatch, summed over submissions, with its annotation;
  // take_times() hands the totals over and starts again from zero.
  void timestamps_time_each_dispatch() {
    auto ops = Ops::create(*gpu.device);
    VKT_OK(ops);
    const uint32_t n = 1 << 16;
    std::vector<float> a(n, 1.0f);
    auto ba = make_buffer(*gpu.device, a), t1 = make_buffer(*gpu.device, nullptr, n * 4),
         t2 = make_buffer(*gpu.device, nullptr, n * 4);
    auto plain = Recorder::create(*gpu.device);
    VKT_OK(plain);
    QVERIFY(!(*plain)->timestamps());
    auto rec = Recorder::create(*gpu.device);
    VKT_OK(rec);
    Recorder& r = **rec;
    VKT_OK(r.enable_timestamps());
    QVERIFY(r.timestamps());
    VKT_OK(r.begin());
    r.annotate("blk.0.ffn_up.weight", 1234);
    VKT_OK((*ops)->add(r, view(*ba), view(*ba), view(*t1), n, n));
    VKT_OK((*ops)->add(r, view(*t1), view(*ba), view(*t2), n, n));  // unannotated
    VKT_OK(r.end());
    VKT_OK(r.submit_and_wait());
    VKT_OK(r.submit_and_wait());
    uint32_t subs = 0;
    auto times = r.take_times(&subs);
    QCOMPARE(subs, 2u);
    QCOMPARE(times.size(), size_t(2));
    QCOMPARE(times[0].shader, std::string("add"));
    QCOMPARE(times[0].label, std::string("blk.0.ffn_up.weight"));
    QCOMPARE(times[0].bytes, uint64_t(1234));
    QVERIFY(times[1].label.empty());
    QCOMPARE(times[1].bytes, uint64_t(0));
    QVERIFY(times[0].seconds >= 0 && times[1].seconds >= 0);
    QVERIFY(times[0].seconds + times[1].seconds > 0);
    QVERIFY(times[0].seconds + times[1].seconds < 10);  // ticks converted with timestampPeriod, not raw
    times = r.take_times(&subs);
    QCOMPARE(subs, 0u);
    QCOMPARE(times[0].seconds + times[1].seconds, 0.0);
    QCOMPARE(read_back<float>(*t2, n)[n - 1], 3.0f);  // the timed recording still computes
  }

  void bandwidth_probe_reads_and_checks() {
    // A small buffer (1 MiB + 96 bytes) split into 256 KiB bindings, the last one partial: every read pattern
    // must reproduce the host's sum of all its words (measure_bandwidth fails otherwise: a pattern that
    // skipped loads or a binding would be caught), the copy must copy, and every figure must be a rate.
    ProbeOptions o;
    o.bytes = (1u << 20) + 96;
    o.max_binding_bytes = 256u << 10;
    o.repeats = 1;
    o.matvec = false;
    auto probe = measure_bandwidth(*gpu.device, o);
    VKT_OK(probe);
    QCOMPARE(probe->words_checked, uint64_t(o.bytes / 4));
    int reads = 0;
    bool copy = false;
    for (const BandwidthPattern& p : probe->patterns) {
      QVERIFY2(std::isfinite(p.bytes_per_s) && p.bytes_per_s > 0, p.name.c_str());
      reads += p.read;
      copy |= p.name.rfind("copy", 0) == 0;
      if (p.read) QVERIFY(p.bytes_per_s <= probe->read_limit);
    }
    QVERIFY(reads >= 6);
    QVERIFY(copy);
    QVERIFY(std::isfinite(probe->read_limit) && probe->read_limit > 0);
    QVERIFY(!probe->limit_pattern.empty());
    // The whole probe on defaults (256 MiB on lavapipe) is `penser-cli devices --bandwidth`: not run here.
  }

  void rows_split_under_the_binding_limit() {
    // Q4_K rows of 768 columns are 432 bytes; a binding starts up to 16 bytes before its chunk.
    auto c = split_rows(37, 432, 1024, 16);
    VKT_OK(c);
    QCOMPARE(c->size(), size_t(19));
    uint32_t rows = 0;
    for (const RowChunk& k : *c) {
      QVERIFY(k.n_rows * 432ull + 16 <= 1024);
      QCOMPARE(k.row_begin, rows);
      rows += k.n_rows;
    }
    QCOMPARE(rows, 37u);
    // Rows of 18 bytes (one Q4_0 block) with 64-byte alignment: (1000 - 64) / 18 = 52 rows per chunk.
    c = split_rows(100, 18, 1000, 64);
    VKT_OK(c);
    QCOMPARE(c->size(), size_t(2));
    QCOMPARE((*c)[0].n_rows, 52u);
    QCOMPARE((*c)[1].offset, 52ull * 18);
    QVERIFY(!split_rows(4, 5000, 4096, 16));  // one row larger than a binding
  }
};

QTEST_GUILESS_MAIN(TestVulkanCore)
#include "test_vulkan_core.moc"
