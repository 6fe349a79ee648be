// A crash inside a GPU driver must not end every later start of Penser too.
//
// Broken or mismatched Vulkan drivers crash in vkCreateInstance, in device enumeration or in their shader
// compiler (Vulkan-Loader #1287, AMD's amdvlk in vkCreateInstance). Penser talks to the driver as it starts:
// the Settings controller lists the devices and the last model loads. A driver that crashes there would
// crash every start, and the user could not even reach the setting that turns the GPU off.
//
// So while Penser is inside the driver (listing devices; creating an evaluator: the instance, the device, the
// decode step's pipelines, the upload), a GpuGuard holds a lock file in a folder of its own (QLockFile: the
// process id, host and program; named by the process id and the time). A run that ends there leaves the
// file behind, its process gone. The next run finds it (earlier_run_crashed; a file with its own process id,
// which a sandbox may give every run, counts too) and removes it. In that run the Settings controller lists no devices and
// says why (so that the dialog where the backend is chosen opens without the driver), and the first model
// load runs on the CPU with a notice; the next load (Reload, another model) tries the GPU again: the user
// decides, no loop. A run that ends inside the driver again leaves its mark again.
//
// The folder: PENSER_GPU_GUARD_DIR when set (CTest gives each suite its own), else "gpu-guard" in the
// application's local data folder. Guards nest and may be held on several threads at once: one lock file per
// process, held while any guard is.
#pragma once

#include <QString>

namespace penser::gui {

class GpuGuard {
 public:
  GpuGuard();
  ~GpuGuard();
  GpuGuard(const GpuGuard&) = delete;
  GpuGuard& operator=(const GpuGuard&) = delete;

  enum class Use { DeviceList, ModelLoad };
  // Whether to leave the driver alone now, after an earlier run ended inside a guard (found at the process's
  // first call, its files removed): the device list, always in this process; a model load, the first time.
  static bool skip(Use use);
  // Whether an earlier run ended inside a guard: the answer of the process's first look, kept.
  static bool earlier_run_crashed();

  static QString folder();

  // Tests: forget this process's look, so that the next call looks at the folder again.
  static void reset_for_tests();
};

}  // namespace penser::gui
