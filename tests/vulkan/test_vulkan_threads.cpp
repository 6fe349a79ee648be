// Several Vulkan instances and devices alive at once, made and used on several threads: the app's Settings
// dialog lists devices on a thread of its own while the engine worker loads a model. volk keeps function
// pointers in process-wide globals (context.cpp, load_functions_once): these tests fail when one instance's
// or device's loading rewrites the pointers another is using (a crash, or validation errors about handles the
// layer never saw) or when two threads write them at once (ThreadSanitizer).
// Instances alternate between with and without the validation layer: the layer is a different call chain
// with its own extension (debug utils), which is what made a rewrite visible on a single driver.
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#if defined(__unix__) || defined(__APPLE__)
#include <dlfcn.h>
#endif
#include "tests/test_support.h"

#include <atomic>
#include <latch>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/vulkan/vk_fixture.h"

using namespace vkt;

namespace {

// One instance, a device (lavapipe in CTest), and a small op run on it: y = a + b, checked exactly.
// Returns "" or what went wrong.
std::string use_vulkan(bool validation, uint32_t seed) {
  auto instance = Instance::create({.validation = validation});
  if (!instance) return "instance: " + instance.error().message;
  if ((*instance)->devices().empty()) return "no device listed";
  // Where several devices are usable (a GPU machine lists the GPU and lavapipe when both drivers are
  // installed), calls alternate between them: two drivers at once is where per-device pointers broke.
  std::optional<uint32_t> pick = device_override();
  if (!pick) {
    std::vector<uint32_t> usable;
    for (const DeviceInfo& d : (*instance)->devices())
      if (d.usable()) usable.push_back(d.index);
    if (usable.size() > 1) pick = usable[seed % usable.size()];
  }
  auto chosen = choose_device((*instance)->devices(), pick, /*allow_cpu=*/true);
  if (!chosen) return "choice: " + chosen.error().message;
  auto device = Device::create(**instance, *chosen);
  if (!device) return "device: " + device.error().message;
  auto ops = Ops::create(**device);
  if (!ops) return "ops: " + ops.error().message;

  constexpr uint32_t n = 333;
  std::vector<float> a(n), b(n);
  for (uint32_t i = 0; i < n; ++i) {
    a[i] = float(i * 3 + seed);
    b[i] = float(seed) - float(i) * 0.5f;
  }
  auto make = [&](const std::vector<float>* v) -> Result<std::unique_ptr<Buffer>> {
    PENSER_ASSIGN_OR_RETURN(auto buf, Buffer::create(**device, n * sizeof(float), MemoryUse::DeviceLocal, "a test buffer"));
    if (v) PENSER_TRY(buf->write(0, v->data(), n * sizeof(float)));
    return buf;
  };
  auto ab = make(&a), bb = make(&b), yb = make(nullptr);
  if (!ab || !bb || !yb) return "buffers: " + (!ab ? ab.error() : !bb ? bb.error() : yb.error()).message;
  auto rec = Recorder::create(**device);
  if (!rec) return "recorder: " + rec.error().message;
  Status s = (*rec)->begin();
  if (s) s = (*ops)->add(**rec, view(**ab), view(**bb), view(**yb), n, n);
  if (s) s = (*rec)->end();
  if (s) s = (*rec)->submit_and_wait();
  if (!s) return "add: " + s.error().message;
  std::vector<float> y(n);
  if (Status r = (*yb)->read(0, y.data(), n * sizeof(float)); !r) return "read back: " + r.error().message;
  for (uint32_t i = 0; i < n; ++i)
    if (y[i] != a[i] + b[i]) return "wrong sum at " + std::to_string(i);
  if ((*instance)->validation_errors() != 0) {
    std::string all;
    for (const std::string& m : (*instance)->validation_messages()) all += m + "\n";
    return "validation errors:\n" + all;
  }
  return {};
}

}  // namespace

class TestVulkanThreads : public QObject {
  Q_OBJECT

 private slots:
  // A validation message from any instance (the evaluators make their own) or a write past a buffer's end
  // fails the test function that caused it.
  void cleanup() { QVERIFY2(vkt::no_new_faults(), "the validation layer or a buffer's guard saw a fault"); }

  void initTestCase() {
    if (Status s = load(); !s) PENSER_SKIP_UNLESS_CI(s.error().message.c_str());
  }

  // Single-threaded, deterministic: an instance and device without the layer made while ones with it live.
  // Before the fix the second device's volkLoadDevice sent the first device's calls straight to the driver
  // with the layer's handles, and ~Instance of the first called a null vkDestroyDebugUtilsMessengerEXT.
  void instances_with_and_without_validation_coexist() {
    auto with = Instance::create({.validation = true});
    VKT_OK(with);
    auto chosen = choose_device((*with)->devices(), device_override(), true);
    VKT_OK(chosen);
    auto dev_with = Device::create(**with, *chosen);
    VKT_OK(dev_with);
    {
      auto without = Instance::create({.validation = false});
      VKT_OK(without);
      auto dev_without = Device::create(**without, *chosen);
      VKT_OK(dev_without);
      // Both devices work while both exist (each op makes its own instance too: four at once).
      const std::string first = use_vulkan(true, 1), second = use_vulkan(false, 2);
      QVERIFY2(first.empty(), first.c_str());
      QVERIFY2(second.empty(), second.c_str());
      auto buf = Buffer::create(**dev_with, 4096, MemoryUse::DeviceLocal, "a buffer on the first device");
      VKT_OK(buf);
    }
    auto buf = Buffer::create(**dev_with, 4096, MemoryUse::DeviceLocal, "a buffer after the second is gone");
    VKT_OK(buf);
    QCOMPARE((*with)->validation_errors(), 0u);
  }

  // The driver stays loaded when the last instance is destroyed (context.cpp, keep_drivers_loaded): the
  // loader closes a driver with the last instance, and NVIDIA's Linux driver, opened again, takes more of
  // glibc's static TLS each time until vkCreateInstance fails (the H200 run of 2026-11-29: after 30
  // evaluators, "libnvidia-tls.so: cannot allocate memory in static TLS block"). Lavapipe has no such TLS,
  // so this checks the cause: the driver manifest's library stays loaded after the instance is gone.
  void the_driver_stays_loaded_between_instances() {
    QString manifest = qEnvironmentVariable("VK_DRIVER_FILES");
    if (manifest.isEmpty()) manifest = qEnvironmentVariable("VK_ICD_FILENAMES");
    if (manifest.isEmpty() || manifest.contains(':')) QSKIP("needs one driver manifest in VK_ICD_FILENAMES (as CTest sets)");
#if !defined(RTLD_NOLOAD)
    QSKIP("needs dlopen's RTLD_NOLOAD (Linux, macOS)");
#else
    QFile json(manifest);
    QVERIFY2(json.open(QIODevice::ReadOnly), qPrintable(manifest));
    const QString library = QJsonDocument::fromJson(json.readAll())["ICD"]["library_path"].toString();
    QVERIFY(!library.isEmpty());
    // Whether the driver is loaded: dlopen with RTLD_NOLOAD finds it by the manifest's own name, a path or a
    // soname (NVIDIA's "libGLX_nvidia.so.0", which /proc/self/maps shows as the file it links to: the H200
    // run of 2026-11-30 failed a check of the maps by name), and loads nothing.
    auto loaded = [&] {
      void* h = dlopen(library.toLocal8Bit().constData(), RTLD_LAZY | RTLD_NOLOAD);
      if (h) dlclose(h);
      return h != nullptr;
    };
    for (int i = 0; i < 3; ++i) {
      {
        auto instance = Instance::create({.validation = i == 1});
        VKT_OK(instance);
        QVERIFY2(loaded(), qPrintable(library + " is not loaded while an instance lives"));
      }
      QVERIFY2(loaded(), qPrintable(library + " was unloaded with the last instance"));
    }
#endif
  }

  // Four threads, each making and using instances in a loop, with and without the layer, started together.
  void instances_on_several_threads() {
    constexpr int kThreads = 4, kRounds = 4;
    std::latch start(kThreads);
    std::mutex mutex;
    std::vector<std::string> failures;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        start.arrive_and_wait();
        for (int round = 0; round < kRounds; ++round) {
          const std::string why = use_vulkan((t + round) % 2 == 0, uint32_t(t * 100 + round));
          if (!why.empty()) {
            std::lock_guard lock(mutex);
            failures.push_back("thread " + std::to_string(t) + " round " + std::to_string(round) + ": " + why);
          }
        }
      });
    }
    for (std::thread& th : threads) th.join();
    for (const std::string& f : failures) qWarning("%s", f.c_str());
    QVERIFY(failures.empty());
  }
};

QTEST_GUILESS_MAIN(TestVulkanThreads)
#include "test_vulkan_threads.moc"
