#include "app/gui/gpu_guard.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QLockFile>
#include <QStandardPaths>
#include <QSysInfo>

#include <memory>
#include <mutex>

namespace penser::gui {
namespace {

struct State {
  std::mutex mutex;
  int holders = 0;                   // guards alive in this process
  std::unique_ptr<QLockFile> lock;   // held while holders > 0
  bool looked = false, crashed = false;
  bool skipped_load = false;
};

State& state() {
  static State s;
  return s;
}

// A name of its own for each hold: the process id and the time. A process id alone comes back (a container
// or a sandbox often gives the app the same one each run), and a file named by it would be taken for this
// process's own.
QString new_file(const QString& dir) {
  return dir + QStringLiteral("/penser-%1-%2.lock")
                   .arg(QCoreApplication::applicationPid())
                   .arg(QDateTime::currentMSecsSinceEpoch());
}

// Under the mutex, before this process holds a file. Every file there whose process is gone is stale, and
// tryLock takes it (QLockFile checks the process id, host and program); a live one (another Penser starting
// now) is left. A file that names this process's id was left by an earlier run that had the same id.
void look(State& s) {
  if (s.looked) return;
  s.looked = true;
  const QString dir = GpuGuard::folder();
  const QString held = s.lock ? s.lock->fileName() : QString();
  const QStringList files = QDir(dir).entryList({QStringLiteral("penser-*.lock")}, QDir::Files);
  for (const QString& name : files) {
    const QString path = QDir(dir).filePath(name);
    if (path == held) continue;
    QLockFile other(path);
    other.setStaleLockTime(0);  // age alone never makes a lock stale: a load may take minutes
    qint64 pid = 0;
    QString host, program;
    if (other.getLockInfo(&pid, &host, &program) && pid == QCoreApplication::applicationPid() &&
        host == QSysInfo::machineHostName()) {
      s.crashed = true;
      QFile::remove(path);
    } else if (other.tryLock(0)) {
      s.crashed = true;
      other.unlock();  // removes the file
    }
  }
}

}  // namespace

QString GpuGuard::folder() {
  const QByteArray env = qgetenv("PENSER_GPU_GUARD_DIR");
  if (!env.isEmpty()) return QString::fromLocal8Bit(env);
  return QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation) + QStringLiteral("/gpu-guard");
}

GpuGuard::GpuGuard() {
  State& s = state();
  std::lock_guard lock(s.mutex);
  look(s);  // before this process leaves a file of its own
  if (s.holders++ > 0) return;
  const QString dir = folder();
  QDir().mkpath(dir);
  s.lock = std::make_unique<QLockFile>(new_file(dir));
  s.lock->setStaleLockTime(0);
  if (!s.lock->tryLock(0)) s.lock.reset();  // cannot write there: no guard, as before it existed
}

GpuGuard::~GpuGuard() {
  State& s = state();
  std::lock_guard lock(s.mutex);
  if (--s.holders > 0) return;
  s.lock.reset();  // unlocks: removes the file
}

bool GpuGuard::earlier_run_crashed() {
  State& s = state();
  std::lock_guard lock(s.mutex);
  look(s);
  return s.crashed;
}

bool GpuGuard::skip(Use use) {
  State& s = state();
  std::lock_guard lock(s.mutex);
  look(s);
  if (!s.crashed) return false;
  if (use == Use::DeviceList) return true;
  if (s.skipped_load) return false;
  s.skipped_load = true;
  return true;
}

void GpuGuard::reset_for_tests() {
  State& s = state();
  std::lock_guard lock(s.mutex);
  s.looked = s.crashed = s.skipped_load = false;
}

}  // namespace penser::gui
