// penser-cli with Vulkan: `devices --json` describes lavapipe as the default when it is the only device,
// `run --backend vulkan --device 0` generates the same tokens as `--backend cpu` on a tiny f32 model, a
// missing --device N is an error naming it, `--batch N` keeps the logits, `bench --profile` times every op of
// the decode steps and of the prompt batches (with the products' operations), and the bandwidth probe's
// figures reach `devices --bandwidth --json` and `bench --memory-bandwidth` (a 4 MiB probe); a loader without
// a driver is said as plainly as no loader.
#include <QJsonArray>
#include <algorithm>
#include "tests/test_support.h"
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <cstring>
#include <vector>

#include "inference/model/synth.h"

namespace {
const QString kCli = QStringLiteral(PENSER_BINARY_DIR "/app/cli/penser-cli");

struct Run {
  int code = -1;
  QByteArray out, err;
};

Run cli(const QStringList& args, const QProcessEnvironment& env = QProcessEnvironment::systemEnvironment()) {
  QProcess p;
  p.setProcessEnvironment(env);
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

  // A tiny random model written in-process with one thread (make-model's own tests cover that command);
  // empty when writing failed (the warning says why).
  QString write_model(const QString& name, penser::model::SynthSpec spec) {
    spec.n_threads = 1;
    const QString path = dir.filePath(name);
    const penser::Status st = penser::model::write_synth_model(spec, path.toStdString());
    if (!st.has_value()) qWarning("%s", st.error().message.c_str());
    return st.has_value() ? path : QString();
  }

 private slots:
  void initTestCase() {
    QVERIFY2(QFileInfo::exists(kCli), qPrintable(kCli));
    QVERIFY(dir.isValid());
    qputenv("PENSER_VK_PROBE_BYTES", QByteArray::number(4 << 20));  // the children's probe: 4 MiB, not 256
  }

  void devices_bandwidth_json() {
    const Run r = cli({"devices", "--json", "--bandwidth"});
    QVERIFY2(r.code == 0, r.err.constData());
    const QJsonObject o = QJsonDocument::fromJson(r.out).object();
    if (!o.value("available").toBool()) PENSER_SKIP_UNLESS_CI("no Vulkan loader");
    QVERIFY(o.value("bandwidth_bytes_per_s").toDouble() > 0);
    QVERIFY(o.value("bandwidth_pattern").toString().startsWith("read "));
    QStringList names;
    double best_read = 0;
    for (const QJsonValue& v : o.value("bandwidth_patterns").toArray()) {
      const QJsonObject p = v.toObject();
      names << p.value("pattern").toString();
      QVERIFY(p.value("bytes_per_s").toDouble() > 0);
      if (p.value("read").toBool()) best_read = std::max(best_read, p.value("bytes_per_s").toDouble());
    }
    QCOMPARE(best_read, o.value("bandwidth_bytes_per_s").toDouble());  // the limit is the fastest read
    QVERIFY2(names.contains("copy (read + write)") && names.contains("f16 mat-vec (Ops::mul_mv)"),
             qPrintable(names.join(", ")));
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
                            "max_storage_buffer_range", "max_memory_allocation_size", "max_compute_shared_memory",
                            "subgroup_size_min", "subgroup_size_max", "subgroups_used", "subgroup_size_used",
                            "subgroup_size_pinned", "subgroups_note", "device_memory_mapped", "uuid", "identity"})
      QVERIFY2(d.contains(key), key);
    if (qEnvironmentVariable("VK_ICD_FILENAMES").contains("lvp_icd")) {
      QCOMPARE(d.value("type").toString(), QString("cpu"));
      QCOMPARE(o.value("default").toInt(-1), 0);  // the only device: chosen
      QCOMPARE(d.value("max_storage_buffer_range").toDouble(), 128.0 * 1024 * 1024);
      // Mesa 22.3's lavapipe: width 8..8, pinned (plan_subgroups).
      QCOMPARE(d.value("subgroup_size_min").toInt(), 8);
      QCOMPARE(d.value("subgroup_size_max").toInt(), 8);
      QVERIFY(d.value("subgroups_used").toBool() && d.value("subgroup_size_pinned").toBool());
      QCOMPARE(d.value("subgroup_size_used").toInt(), 8);
      QVERIFY(d.value("device_memory_mapped").toBool());  // unified memory: no staging copies
    }
    const Run text = cli({"devices"});
    QCOMPARE(text.code, 0);
    QVERIFY(text.out.contains("* 0: "));
    if (qEnvironmentVariable("VK_ICD_FILENAMES").contains("lvp_icd"))
      QVERIFY2(text.out.contains("min 8 max 8; used: 8 pinned") && text.out.contains("; the CPU maps it (unified memory);"),
               text.out.constData());
  }

  // A Vulkan loader with no driver it can start (a VM, a Linux without mesa-vulkan-drivers): `devices` says so
  // and what to install, as it does without a loader, and is no failure; `run --backend vulkan` fails with the
  // same sentence (before: "creating the Vulkan instance failed: VK_ERROR_INCOMPATIBLE_DRIVER (the installed
  // Vulkan driver is too old or not for this GPU)", and `devices` exited 1).
  void no_driver() {
    if (!qEnvironmentVariable("VK_ICD_FILENAMES").contains("lvp_icd")) QSKIP("needs the loader as CTest runs it");
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    const QString none = dir.filePath("no-such-driver.json");
    env.insert("VK_ICD_FILENAMES", none);  // the loader's list of drivers (VK_DRIVER_FILES in newer loaders)
    env.insert("VK_DRIVER_FILES", none);
    const char* kWhy = "Vulkan is not available: the Vulkan loader found no GPU driver it could start";
    const Run text = cli({"devices"}, env);
    QVERIFY2(text.code == 0, text.err.constData());
    QVERIFY2(text.out.contains(kWhy) && text.out.contains("mesa-vulkan-drivers") &&
                 text.out.contains("Penser uses its CPU backend."),
             text.out.constData());
    const Run json = cli({"devices", "--json"}, env);
    QCOMPARE(json.code, 0);
    const QJsonObject o = QJsonDocument::fromJson(json.out).object();
    QCOMPARE(o.value("available").toBool(true), false);
    QVERIFY2(o.value("reason").toString().startsWith(kWhy), json.out.constData());
    QVERIFY(o.value("devices").toArray().isEmpty());

    const QString model = write_model("nodriver.gguf", {.n_embd = 64, .n_ff = 128});
    QVERIFY(!model.isEmpty());
    const Run run = cli({"run", model, "--raw", "--prompt", "abc", "-n", "2", "--backend", "vulkan"}, env);
    QCOMPARE(run.code, 1);
    QVERIFY2(run.err.contains(kWhy), run.err.constData());
  }

  // A context that does not fit the device: refused before anything is uploaded, with both figures and what to
  // do (lavapipe's 2 GiB against a 131072-token f16 cache of 28 layers x 2 heads x 128: 3.5 GiB).
  void context_too_big_for_the_device() {
    if (!qEnvironmentVariable("VK_ICD_FILENAMES").contains("lvp_icd")) QSKIP("sized for lavapipe's 2 GiB");
    const QString model = write_model("longctx.gguf", {.n_embd = 256, .n_layer = 28, .n_head = 2, .n_head_kv = 2,
                                                       .n_ff = 256, .n_ctx_train = 131072,
                                                       .type = penser::quant::Type::Q8_0});
    QVERIFY(!model.isEmpty());
    const QStringList args = {"run", model, "--raw", "--prompt", "abc", "-n", "2", "--backend", "vulkan"};
    const Run big = cli(args + QStringList{"--ctx", "131072"});
    QCOMPARE(big.code, 1);
    QVERIFY2(big.err.contains("penser-synth and a context of 131072 tokens need 3.5") &&
                 big.err.contains("GiB but the GPU llvmpipe") && big.err.contains("choose a smaller model or context"),
             big.err.constData());
    const Run fits = cli(args + QStringList{"--ctx", "4096"});
    QVERIFY2(fits.code == 0, fits.err.constData());
  }

  void run_matches_cpu() {
    const QString model = write_model("tiny.gguf", {.n_embd = 256, .n_ff = 512});
    QVERIFY(!model.isEmpty());
    QStringList args = {"run", model, "--raw", "--prompt", "abc", "-n", "12", "--json", "--backend"};
    const Run c = cli(args + QStringList{"cpu"});
    const Run v = cli(args + QStringList{"vulkan", "--device", "0"});
    QVERIFY2(c.code == 0, c.err.constData());
    QVERIFY2(v.code == 0, v.err.constData());
    auto tokens = [](const QByteArray& out) {
      const QList<QByteArray> lines = out.trimmed().split('\n');
      return QJsonDocument::fromJson(lines.last()).object().value("tokens").toArray();
    };
    QVERIFY(!tokens(c.out).isEmpty());
    QCOMPARE(tokens(v.out), tokens(c.out));

    const Run missing = cli(args + QStringList{"vulkan", "--device", "7"});
    QCOMPARE(missing.code, 1);
    QVERIFY2(missing.err.contains("no Vulkan device 7"), missing.err.constData());
    const Run cpu_device = cli(args + QStringList{"cpu", "--device", "0"});
    QCOMPARE(cpu_device.code, 1);
    QVERIFY2(cpu_device.err.contains("--backend vulkan"), cpu_device.err.constData());
  }

  // bench --kv-fill N: decode timed at position N over a synthetic cache (no prefill); Vulkan only; a fill
  // past the model's context is an error, not a crash.
  void bench_kv_fill() {
    const QString model = write_model("tiny_fill.gguf", {.n_embd = 256, .n_ff = 512, .n_ctx_train = 512});
    QVERIFY(!model.isEmpty());
    const Run r = cli({"bench", model, "--backend", "vulkan", "-p", "0", "-n", "3", "--kv-fill", "300", "--json"});
    QVERIFY2(r.code == 0, r.err.constData());
    const QJsonObject j = QJsonDocument::fromJson(r.out).object();
    QCOMPARE(j.value("kv_fill").toInt(), 300);
    QVERIFY(j.value("decode_tok_s").toObject().value("mean").toDouble() > 0);
    // The device memory the run held, within the estimate the fit check made (docs/cli.md).
    const QJsonObject mem = j.value("gpu_memory").toObject();
    QVERIFY(mem.value("allocated_bytes").toDouble() > 0);
    QVERIFY(mem.value("allocated_bytes").toDouble() <= mem.value("estimate_bytes").toDouble());
    // Where the load went (docs/vulkan.md, "Loading"): each phase within the whole, the whole within the load.
    const QJsonObject vl = j.value("vulkan_load").toObject();
    const double total = vl.value("total_s").toDouble();
    QVERIFY(total > 0 && total <= j.value("load_s").toDouble());
    for (const char* k : {"buffers_s", "weights_s", "step_s"})
      QVERIFY2(vl.value(k).toDouble() > 0 && vl.value(k).toDouble() <= total, k);
    QVERIFY(vl.value("buffers_s").toDouble() + std::max(vl.value("weights_s").toDouble(), vl.value("step_s").toDouble()) <=
            total);
    const Run over = cli({"bench", model, "--backend", "vulkan", "-p", "0", "-n", "3", "--kv-fill", "600"});
    QCOMPARE(over.code, 1);
    QVERIFY2(over.err.contains("cannot fill 600 positions"), over.err.constData());
    const Run cpu = cli({"bench", model, "-p", "0", "-n", "1", "--kv-fill", "10"});
    QCOMPARE(cpu.code, 1);
    QVERIFY2(cpu.err.contains("--backend vulkan"), cpu.err.constData());
  }

  // --batch N: the prompt in batches of N (mul_mm) or token by token (1) gives the same
  // last-position logits; out-of-range values and --batch without --backend vulkan are refused, saying why.
  void logits_with_another_batch() {
    const QString model = write_model("tiny_batch.gguf", {.n_embd = 128, .n_ff = 256});
    QVERIFY(!model.isEmpty());
    const QStringList base = {"logits", model, "--tokens", "1,17,200,3,99,42,7,5,60,11,250", "--backend", "vulkan"};
    auto logits_of = [&](const QStringList& extra, const QString& name) {
      const QString out = dir.filePath(name);
      const Run r = cli(base + extra + QStringList{"--out", out});
      if (r.code != 0) qWarning("%s", r.err.constData());
      QFile f(out);
      std::vector<float> v;
      if (r.code == 0 && f.open(QIODevice::ReadOnly)) {
        const QByteArray bytes = f.readAll();
        v.resize(size_t(bytes.size()) / 4);
        std::memcpy(v.data(), bytes.constData(), v.size() * 4);
      }
      return v;
    };
    const std::vector<float> by_default = logits_of({}, "default.f32");
    QVERIFY(!by_default.empty());
    for (const char* batch : {"1", "4", "64"}) {
      const std::vector<float> other = logits_of({"--batch", batch}, QString("batch%1.f32").arg(batch));
      QCOMPARE(other.size(), by_default.size());
      double num = 0, den = 0;
      for (size_t i = 0; i < other.size(); ++i) {
        num += (double(other[i]) - by_default[i]) * (double(other[i]) - by_default[i]);
        den += double(by_default[i]) * by_default[i];
      }
      QVERIFY2(den > 0 && num / den < 1e-9, qPrintable(QString("--batch %1: nmse %2").arg(batch).arg(num / den)));
    }

    for (const char* bad : {"0", "4097", "-3", "many"}) {
      const Run r = cli(base + QStringList{"--batch", bad, "--out", dir.filePath("bad.f32")});
      QVERIFY2(r.code != 0, bad);
      QVERIFY2(r.err.contains("--batch: the prompt tokens per Vulkan submission must be 1 to 4096"), r.err.constData());
    }
    QStringList on_cpu = base;
    on_cpu.replace(on_cpu.indexOf("vulkan"), "cpu");
    const Run cpu = cli(on_cpu + QStringList{"--batch", "4", "--out", dir.filePath("cpu.f32")});
    QCOMPARE(cpu.code, 1);
    QVERIFY2(cpu.err.contains("--batch 4") && cpu.err.contains("--backend vulkan"), cpu.err.constData());
  }

  void bench_profile() {
    const QString model =
        write_model("tiny_q4k.gguf", {.n_embd = 256, .n_layer = 2, .n_ff = 512, .type = penser::quant::Type::Q4_K});
    QVERIFY(!model.isEmpty());
    const Run r = cli({"bench", model, "--backend", "vulkan", "-p", "3", "-n", "4", "--profile", "--memory-bandwidth",
                       "--json"});
    QVERIFY2(r.code == 0, r.err.constData());
    const QJsonObject j = QJsonDocument::fromJson(r.out).object();
    // On Vulkan the ceiling is the device's probe: its best read pattern, and decode as a share of it.
    QVERIFY(j.value("memory_read_gb_s").toDouble() > 0);
    QVERIFY(j.value("memory_read_pattern").toString().startsWith("read "));
    QVERIFY(j.value("decode_fraction_of_memory_bound").toDouble() > 0);
    const QJsonObject p = j.value("profile").toObject();
    QCOMPARE(p.value("decode_steps").toInt(), 4);  // the decode steps only: not the warm-up or the prompt
    double share = 0, matrix_bytes = 0;
    QStringList ops;
    for (const QJsonValue& v : p.value("ops").toArray()) {
      const QJsonObject o = v.toObject();
      ops << o.value("op").toString();
      share += o.value("share").toDouble();
      QVERIFY(o.value("gpu_us_per_token").toDouble() >= 0);
      if (o.value("op").toString().startsWith("mul_mv ")) {
        QVERIFY(o.value("weight_bytes_per_token").toDouble() > 0);
        matrix_bytes += o.value("weight_bytes_per_token").toDouble();
      }
    }
    // The merged decode step (the default): Q/K/V and gate/up as one product each, RoPE + KV store inside the
    // grouped attention (attn_decode_gqa*_rope) or as rope_kv before the per-head one, SwiGLU folded into the
    // gate/up product (the default: no swiglu op).
    // (rms_norm: or its CPU-implementation kernel, rms_norm_cpu.)
    for (const char* op : {"mul_mv q4_k ffn_down", "mul_mv q4_k attn_qkv", "mul_mv q4_k ffn_gate_up+swiglu", "rms_norm"})
      QVERIFY2(ops.contains(op) || ops.contains(QString(op) + "_cpu"), qPrintable(ops.join(", ")));
    QVERIFY2(ops.contains("rope_kv") != !ops.filter(QRegularExpression("^attn_decode_gqa.*_rope$")).isEmpty(),
             qPrintable(ops.join(", ")));
    QVERIFY2(ops.filter(QRegularExpression("^swiglu")).isEmpty(), qPrintable(ops.join(", ")));
    // Decode attention: attn_decode (per head) or attn_decode_gqa (grouped), whichever the device runs.
    QVERIFY2(!ops.filter(QRegularExpression("^attn_decode")).isEmpty(), qPrintable(ops.join(", ")));
    QVERIFY(qAbs(share - 1.0) < 1e-6);
    // Every matrix is read once per token: the profiled bytes are the model's weights less the embedding
    // table (one row read) and the 1-D tensors.
    const double per_token = j.value("weight_bytes_per_token").toDouble();
    QVERIFY2(matrix_bytes <= per_token && matrix_bytes > 0.9 * per_token,
             qPrintable(QString("%1 of %2").arg(matrix_bytes).arg(per_token)));

    // The prompt (3 tokens: one batch): every op of the batch recordings, per prompt token.
    const QJsonObject pp = j.value("prompt_profile").toObject();
    QCOMPARE(pp.value("tokens").toInt(), 3);
    double pshare = 0, mm_gflop = 0;
    QStringList pops;
    for (const QJsonValue& v : pp.value("ops").toArray()) {
      const QJsonObject o = v.toObject();
      const QString op = o.value("op").toString();
      pops << op;
      pshare += o.value("share").toDouble();
      QVERIFY(o.value("gpu_us_per_token").toDouble() >= 0);
      QVERIFY(o.value("dispatches_per_batch").toInt() >= 1);
      if (op.startsWith("mul_mm ")) {
        QVERIFY2(o.value("gflop_s").toDouble() > 0, qPrintable(op));
        mm_gflop += o.value("gflop_per_token").toDouble();
      } else {
        QCOMPARE(o.value("gflop_per_token").toDouble(), 0.0);
      }
    }
    // (SwiGLU folded into the gate/up product, the default: no swiglu op; its operations are the product's.)
    for (const char* op : {"mul_mm q4_k attn_output", "mul_mm q4_k ffn_down", "rms_norm", "mul_mm q4_k ffn_gate_up+swiglu",
                           "mul_mv q4_k output"})
      QVERIFY2(pops.contains(op) || pops.contains(QString(op) + "_cpu"), qPrintable(pops.join(", ")));
    QVERIFY2(pops.filter(QRegularExpression("^swiglu")).isEmpty(), qPrintable(pops.join(", ")));
    // Q/K/V and gate/up: one product each or merged, as the prompt path records them.
    for (const char* prefix : {"mul_mm q4_k attn_q", "mul_mm q4_k ffn_gate", "attn_"})
      QVERIFY2(!pops.filter(QRegularExpression(QString("^") + prefix)).isEmpty(), qPrintable(pops.join(", ")));
    QVERIFY(qAbs(pshare - 1.0) < 1e-6);
    // 2 operations per weight per token: Wq and Wo 256 x 256, Wk and Wv 128 x 256, gate, up and down 512 x
    // 256, in two layers (the logits are the last token's only: mul_mv, no operations counted).
    const double want = 2.0 * 2 * (2 * 256 * 256 + 2 * 128 * 256 + 3 * 512 * 256) / 1e9;
    QVERIFY2(qAbs(mm_gflop - want) < 1e-12, qPrintable(QString("%1 vs %2").arg(mm_gflop).arg(want)));
    QVERIFY(qAbs(pp.value("gflop_per_token").toDouble() - want) < 1e-12);
    QVERIFY(pp.value("gflop_s").toDouble() > 0);

    const Run cpu = cli({"bench", model, "--backend", "cpu", "-p", "1", "-n", "1", "--profile"});
    QCOMPARE(cpu.code, 1);
    QVERIFY2(cpu.err.contains("--backend vulkan"), cpu.err.constData());
  }
};

QTEST_GUILESS_MAIN(TestVulkanCli)
#include "test_vulkan_cli.moc"
