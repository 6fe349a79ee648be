// penser-cli with Vulkan: `devices --json` describes lavapipe as the default when it is the only device,
// and `run --backend vulkan` generates the same tokens as `--backend cpu` on a tiny f32 model.
#include <QJsonArray>
#include "tests/test_support.h"
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include "inference/model/synth.h"

namespace {
const QString kCli = QStringLiteral(PENSER_BINARY_DIR "/app/cli/penser-cli");

struct Run {
  int code = -1;
  QByteArray out, err;
};

Run cli(const QStringList& args) {
  QProcess p;
  p.start(kCli, args);
  Run r;
  if (!p.waitForFinished(120000)) {
    p.kill();
    p.waitForFinished();
    return r;
  }
  r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
  r.out = p.readAllStandardOutput();
  r.err = p.readAllStandardError();
  return r;
}
}  // namespace

class TestVulkanCli : public QObject {
  Q_OBJECT
  QTemporaryDir dir;

 private slots:
  void initTestCase() {
    QVERIFY2(QFileInfo::exists(kCli), qPrintable(kCli));
    QVERIFY(dir.isValid());
  }

  void devices_json() {
    const Run r = cli({"devices", "--json"});
    QCOMPARE(r.code, 0);
    const QJsonObject o = QJsonDocument::fromJson(r.out).object();
    if (!o.value("available").toBool()) PENSER_SKIP_UNLESS_CI(qPrintable("no Vulkan loader: " + o.value("reason").toString()));
    const QJsonArray devs = o.value("devices").toArray();
    QVERIFY(!devs.isEmpty());
    const QJsonObject d = devs.at(0).toObject();
    for (const char* key : {"name", "type", "driver", "heaps", "subgroup_size", "fp16", "int8",
                            "max_storage_buffer_range", "max_memory_allocation_size", "max_compute_shared_memory"})
      QVERIFY2(d.contains(key), key);
    if (qEnvironmentVariable("VK_ICD_FILENAMES").contains("lvp_icd")) {
      QCOMPARE(d.value("type").toString(), QString("cpu"));
      QCOMPARE(o.value("default").toInt(-1), 0);  // the only device: chosen
      QCOMPARE(d.value("max_storage_buffer_range").toDouble(), 128.0 * 1024 * 1024);
    }
    const Run text = cli({"devices"});
    QCOMPARE(text.code, 0);
    QVERIFY(text.out.contains("* 0: "));
  }

  void run_matches_cpu() {
    const QString model = dir.filePath("tiny.gguf");
    // Written in-process, one thread (make-model's own tests cover that command).
    penser::model::SynthSpec spec;
    spec.n_embd = 256;
    spec.n_ff = 512;
    spec.n_threads = 1;
    const penser::Status st = penser::model::write_synth_model(spec, model.toStdString());
    QVERIFY2(st.has_value(), st.has_value() ? "" : st.error().message.c_str());
    QStringList args = {"run", model, "--raw", "--prompt", "abc", "-n", "12", "--json", "--backend"};
    const Run c = cli(args + QStringList{"cpu"});
    const Run v = cli(args + QStringList{"vulkan"});
    QVERIFY2(c.code == 0, c.err.constData());
    QVERIFY2(v.code == 0, v.err.constData());
    auto tokens = [](const QByteArray& out) {
      const QList<QByteArray> lines = out.trimmed().split('\n');
      return QJsonDocument::fromJson(lines.last()).object().value("tokens").toArray();
    };
    QVERIFY(!tokens(c.out).isEmpty());
    QCOMPARE(tokens(v.out), tokens(c.out));
  }
};

QTEST_GUILESS_MAIN(TestVulkanCli)
#include "test_vulkan_cli.moc"
