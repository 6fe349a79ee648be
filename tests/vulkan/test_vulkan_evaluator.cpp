// The Vulkan evaluator against the CPU evaluator on tiny random models of each architecture and several
// weight types: last-position logits after a prompt within a normalised-error tolerance, and greedy
// decoding that picks the same tokens.
#include <QTemporaryDir>
#include "tests/test_support.h"
#include <QtTest>

#include <algorithm>
#include <cmath>

#include "inference/cpu/cpu.h"
#include "inference/model/model.h"
#include "inference/model/synth.h"
#include "inference/vulkan/evaluator.h"
#include "tests/vulkan/vk_fixture.h"

using namespace vkt;
using penser::model::Arch;
using penser::quant::Type;

namespace {
int argmax(const std::vector<float>& v) { return int(std::max_element(v.begin(), v.end()) - v.begin()); }

// Seven decode steps of two evaluators fed the same tokens (a 7-token prompt, then the first one's argmax):
// their logits within `tolerance` (nmse) at every step. `what` names the pair in the message.
template <class E>
void check_same_steps(E& a, E& b, uint32_t n_vocab, double tolerance, const char* what) {
  std::vector<float> la(n_vocab), lb(n_vocab);
  std::vector<tokenizer::Token> feed = {1, 17, 200, 3, 99, 42, 7};
  for (int step = 0; step < 7; ++step) {
    VKT_OK(a->eval(feed, la));
    VKT_OK(b->eval(feed, lb));
    const double err = nmse(la, lb);
    QVERIFY2(err < tolerance, fmt::format("step {}: {} nmse {:.3g}", step, what, err).c_str());
    feed = {argmax(la)};
  }
}

// Two evaluators of `opt`: the first made with the environment variable `knob` unset (the default), the
// second with it set to "0" (the GPU script's way to turn a decode-step change off).
std::pair<Result<std::unique_ptr<model::Evaluator>>, Result<std::unique_ptr<model::Evaluator>>> default_and_off(
    const model::Model& model, const vulkan::EvaluatorOptions& opt, const char* knob) {
  qunsetenv(knob);
  auto on = vulkan::create_evaluator(model, opt);
  qputenv(knob, "0");
  auto off = vulkan::create_evaluator(model, opt);
  qunsetenv(knob);
  return {std::move(on), std::move(off)};
}

// Variants of a parity row (bits).
enum : int {
  kUnmerged = 1,     // EvaluatorOptions::merge all off (one product per matrix, separate RoPE / KV store)
  kMix = 2,          // llama.cpp's K_M mix on the row's type (Q4_K_M, Q5_K_M): attn_v (and ffn_down) Q6_K in layer 1, so
                     // Q/V cannot merge there (Q+K only)
  kSplit = 4,        // a 40000-byte binding limit: the merged matrices split into chunks (Q/K/V: inside K's rows)
  kOddShape = 32,    // head_dim 6, 3 query heads, 1 KV head: k starts 72 bytes into the q|k|v buffer, not a
                     // multiple of the binding alignment (16 on lavapipe), so it is bound as the whole buffer

  kParts = 64,       // an allocation limit of 37.5 n_embd-wide rows: every matrix (token_embd, output or the tied
                     // one, the merged Q/K/V and gate/up) stored in parts that split its tensors at odd rows;
                     // with kSplit the bindings are 4000 bytes, so the parts are split into chunks too
  kGpuTiles = 128,   // the prompt's products on the GPU tile (PENSER_VK_MUL_MM_TILES=2, _KERNEL=1: no weights
                     // interleaved) in mul_mm_gpu.comp, whatever the device
  kCoopmat = 256,    // the prompt's products on the emulated cooperative-matrix kernel (mul_mm_cm.comp's CM_EMULATED
                     // modules, EvaluatorOptions::mul_mm_coopmat 2): x and the weights rounded to fp16 in them
  kNoFold = 512,     // EvaluatorOptions::swiglu_fold off: the gate|up product writes [gate | up] and swiglu
                     // applies SwiGLU; the other rows fold it where they can
                     // (not with kSplit or kParts: the merged gate|up is not in one binding there)
  kNoCarry = 1024,   // EvaluatorOptions::norm_carry off: every RMSNorm a dispatch of its own (the default carries
                     // them in the products)
  kNoRopeAttn = 2048,  // EvaluatorOptions::rope_in_attention off: the decode step's rope_kv a dispatch of its own
                       // (the default folds it into the attention where the grouped kernel runs)
  kQ8x = 4096,       // the decode products with x rounded to 8 bits and integer dot products (mul_mv.comp's X_Q8,
                     // PENSER_VK_MUL_MV_Q8X=1; row lanes off, so that lavapipe takes the lane-striding path too)
  kQ8xAll = 8192,    // the same with every row slot loading (PENSER_VK_MUL_MV_Q8X=2)
};

// A tiny random model of the suite's shape.
model::SynthSpec tiny_spec(Arch arch, Type type, bool extra, bool mix) {
  model::SynthSpec spec;
  spec.arch = arch;
  spec.type = type;
  spec.k_m = mix;
  spec.n_embd = 256;  // the K and IQ4_XS types need rows of 256
  spec.n_ff = 512;
  spec.n_head = 4;
  spec.n_head_kv = 2;
  spec.n_layer = 2;
  spec.n_vocab = 300;
  spec.seed = 5 + uint64_t(type) + (mix ? 100 : 0);
  if (spec.arch == Arch::Llama) spec.rope_freqs = extra;
  else spec.tie_embeddings = extra;
  return spec;
}
}  // namespace

class TestVulkanEvaluator : public QObject {
  Q_OBJECT
  QTemporaryDir dir;

  // `spec` written to `name` in the suite's directory and loaded. reuse: a file of that name written earlier
  // (by another row with the same spec) is loaded as it is.
  Result<std::unique_ptr<model::Model>> synth_model(const model::SynthSpec& spec, const QString& name,
                                                    bool reuse = false) {
    const std::string path = dir.filePath(name).toStdString();
    if (!reuse || !QFile::exists(dir.filePath(name))) PENSER_TRY(model::write_synth_model(spec, path));
    return model::Model::load(path);
  }

 private slots:
  // A validation message from any instance (the evaluators make their own) or a write past a buffer's end
  // fails the test function that caused it.
  void cleanup() { QVERIFY2(vkt::no_new_faults(), "the validation layer or a buffer's guard saw a fault"); }

  void initTestCase() {
    if (Status s = load(); !s) PENSER_SKIP_UNLESS_CI(s.error().message.c_str());
    QVERIFY(dir.isValid());
    // CTest's runs at other subgroup widths (tests/vulkan/CMakeLists.txt) say which width they ask llvmpipe
    // for; 16 lanes needs AVX-512, and a CPU without it gives 8, which the plain run covers already.
    if (qEnvironmentVariableIsSet("PENSER_TEST_SUBGROUP_WIDTH")) {
      const uint32_t want = qEnvironmentVariable("PENSER_TEST_SUBGROUP_WIDTH").toUInt();
      auto instance = Instance::create({});
      QVERIFY(instance.has_value());
      auto chosen = choose_device((*instance)->devices(), vkt::device_override(), /*allow_cpu=*/true);
      QVERIFY(chosen.has_value());
      const uint32_t have = (*instance)->devices()[*chosen].subgroup_size;
      if (have != want)
        QSKIP(qPrintable(QStringLiteral("the device gives %1-lane subgroups, not %2 (llvmpipe's widest vectors "
                                        "follow the CPU: 16 lanes need AVX-512)").arg(have).arg(want)));
    }
  }

  void parity_with_cpu_data() {
    QTest::addColumn<int>("arch");
    QTest::addColumn<int>("type");
    QTest::addColumn<bool>("extra");  // qwen2/qwen3: tied embeddings; llama: rope_freqs
    QTest::addColumn<double>("tolerance");
    QTest::addColumn<int>("variant");  // kUnmerged | kMix | ... (above)
    // F32/F16 weights: the CPU multiplies in f32 too. Quantized weights: the CPU quantizes activations to
    // Q8_0/Q8_K, the GPU keeps them f32, hence the looser bound.
    QTest::newRow("qwen2 F32") << int(Arch::Qwen2) << int(Type::F32) << false << 1e-9 << 0;
    QTest::newRow("qwen2 F16 tied") << int(Arch::Qwen2) << int(Type::F16) << true << 1e-6 << 0;
    QTest::newRow("llama Q8_0 rope_freqs") << int(Arch::Llama) << int(Type::Q8_0) << true << 1e-3 << 0;
    QTest::newRow("qwen3 Q4_K") << int(Arch::Qwen3) << int(Type::Q4_K) << false << 1e-3 << 0;
    QTest::newRow("qwen2 Q6_K") << int(Arch::Qwen2) << int(Type::Q6_K) << false << 1e-3 << 0;
    QTest::newRow("qwen2 Q5_K") << int(Arch::Qwen2) << int(Type::Q5_K) << false << 1e-3 << 0;
    QTest::newRow("llama IQ4_XS") << int(Arch::Llama) << int(Type::IQ4_XS) << false << 1e-3 << 0;
    // SwiGLU folded into the gate|up product is the default above (decode and prompt): the unfolded path
    // (a product writing [gate | up], then swiglu) on the interleaved types and a plain one.
    // The norms carried by the products are the default above: each norm a dispatch of its own instead.
    QTest::newRow("qwen2 F32 norms apart") << int(Arch::Qwen2) << int(Type::F32) << false << 1e-9 << int(kNoCarry);
    QTest::newRow("qwen3 Q4_K norms apart") << int(Arch::Qwen3) << int(Type::Q4_K) << false << 1e-3 << int(kNoCarry);
    QTest::newRow("llama Q8_0 rope_freqs norms apart") << int(Arch::Llama) << int(Type::Q8_0) << true << 1e-3
                                                       << int(kNoCarry);
    // rope_kv folded into the decode attention is the default above: a dispatch of its own instead.
    QTest::newRow("qwen3 Q4_K rope_kv apart") << int(Arch::Qwen3) << int(Type::Q4_K) << false << 1e-3 << int(kNoRopeAttn);
    QTest::newRow("llama Q8_0 rope_freqs rope_kv apart") << int(Arch::Llama) << int(Type::Q8_0) << true << 1e-3
                                                         << int(kNoRopeAttn);
    QTest::newRow("qwen2 F32 unfolded") << int(Arch::Qwen2) << int(Type::F32) << false << 1e-9 << int(kNoFold);
    QTest::newRow("qwen3 Q4_K unfolded") << int(Arch::Qwen3) << int(Type::Q4_K) << false << 1e-3 << int(kNoFold);
    QTest::newRow("qwen2 Q6_K unfolded") << int(Arch::Qwen2) << int(Type::Q6_K) << false << 1e-3 << int(kNoFold);
    QTest::newRow("llama Q8_0 rope_freqs unfolded") << int(Arch::Llama) << int(Type::Q8_0) << true << 1e-3 << int(kNoFold);
    QTest::newRow("qwen2 Q5_K unfolded") << int(Arch::Qwen2) << int(Type::Q5_K) << false << 1e-3 << int(kNoFold);
    // The merged decode step (the default above) against the unmerged one, and the Q4_K_M mix (Q+K merged,
    // V apart in layer 1) for each architecture: qwen2 biases, qwen3 Q/K norms, llama rope_freqs.
    QTest::newRow("qwen2 F32 unmerged") << int(Arch::Qwen2) << int(Type::F32) << false << 1e-9 << int(kUnmerged);
    QTest::newRow("qwen3 Q4_K unmerged") << int(Arch::Qwen3) << int(Type::Q4_K) << false << 1e-3 << int(kUnmerged);
    QTest::newRow("qwen2 Q4_K_M mix") << int(Arch::Qwen2) << int(Type::Q4_K) << false << 1e-3 << int(kMix);
    QTest::newRow("qwen3 Q4_K_M mix") << int(Arch::Qwen3) << int(Type::Q4_K) << false << 1e-3 << int(kMix);
    QTest::newRow("llama Q4_K_M mix rope_freqs") << int(Arch::Llama) << int(Type::Q4_K) << true << 1e-3 << int(kMix);
    QTest::newRow("qwen2 Q5_K_M mix") << int(Arch::Qwen2) << int(Type::Q5_K) << false << 1e-3 << int(kMix);
    QTest::newRow("qwen2 Q4_K_M mix unmerged") << int(Arch::Qwen2) << int(Type::Q4_K) << false << 1e-3
                                               << (kMix | kUnmerged);
    QTest::newRow("qwen2 F32 unaligned parts") << int(Arch::Qwen2) << int(Type::F32) << false << 1e-9
                                               << int(kOddShape);
    QTest::newRow("qwen3 F32 unaligned parts, unmerged") << int(Arch::Qwen3) << int(Type::F32) << false << 1e-9
                                                         << (kOddShape | kUnmerged);
    QTest::newRow("qwen2 Q4_K_M mix split bindings") << int(Arch::Qwen2) << int(Type::Q4_K) << false << 1e-3
                                                     << (kMix | kSplit);
    QTest::newRow("qwen3 Q4_K_M mix split bindings") << int(Arch::Qwen3) << int(Type::Q4_K) << false << 1e-3
                                                     << (kMix | kSplit);
    // Weights in several allocations (EvaluatorOptions::max_allocation_bytes), against the CPU and against
    // the same evaluator with one allocation per matrix.
    QTest::newRow("qwen2 F16 tied, weights in parts") << int(Arch::Qwen2) << int(Type::F16) << true << 1e-6
                                                      << int(kParts);
    QTest::newRow("qwen3 Q4_K_M mix, weights in parts") << int(Arch::Qwen3) << int(Type::Q4_K) << false << 1e-3
                                                        << (kMix | kParts);
    QTest::newRow("llama Q8_0 rope_freqs, weights in parts, split bindings")
        << int(Arch::Llama) << int(Type::Q8_0) << true << 1e-3 << (kParts | kSplit);
    QTest::newRow("qwen3 Q5_K, weights in parts, split bindings")
        << int(Arch::Qwen3) << int(Type::Q5_K) << false << 1e-3 << (kParts | kSplit);
    // The prompt's products on the emulated cooperative-matrix kernel (Q4_K, Q5_K, Q6_K, Q8_0, F16 weights;
    // F32 ones keep the tiles), in file layout (nothing interleaved then): fp16 x in the products moves the
    // logits by nmse ~1e-7 (F16 row: measured on lavapipe), within the quantized rows' 1e-3; F16's 1e-6 holds.
    QTest::newRow("qwen2 Q4_K_M mix, coopmat emulated") << int(Arch::Qwen2) << int(Type::Q4_K) << false << 1e-3
                                                        << (kMix | kCoopmat);
    QTest::newRow("qwen3 Q6_K, coopmat emulated") << int(Arch::Qwen3) << int(Type::Q6_K) << false << 1e-3 << int(kCoopmat);
    QTest::newRow("qwen2 Q5_K_M mix, coopmat emulated, split bindings") << int(Arch::Qwen2) << int(Type::Q5_K) << false
                                                                        << 1e-3 << (kMix | kCoopmat | kSplit);
    QTest::newRow("llama Q8_0 rope_freqs, coopmat emulated") << int(Arch::Llama) << int(Type::Q8_0) << true << 1e-3
                                                             << int(kCoopmat);
    QTest::newRow("qwen2 F16 tied, coopmat emulated") << int(Arch::Qwen2) << int(Type::F16) << true << 1e-6 << int(kCoopmat);
    QTest::newRow("qwen2 F32 unmerged, weights in parts") << int(Arch::Qwen2) << int(Type::F32) << false << 1e-9
                                                          << (kParts | kUnmerged);
    // The GPU tile's kernel in the prompt batches: plain, K-quant mix (Q4_K, Q6_K), Q8_0 / Q5_K with split
    // bindings, odd shapes (q|k|v offsets that are not multiples of 4).
    QTest::newRow("qwen2 F32 GPU tiles") << int(Arch::Qwen2) << int(Type::F32) << false << 1e-9 << int(kGpuTiles);
    QTest::newRow("qwen3 Q4_K_M mix GPU tiles") << int(Arch::Qwen3) << int(Type::Q4_K) << false << 1e-3
                                                << (kMix | kGpuTiles);
    QTest::newRow("llama Q8_0 rope_freqs GPU tiles, split bindings")
        << int(Arch::Llama) << int(Type::Q8_0) << true << 1e-3 << (kSplit | kGpuTiles);
    QTest::newRow("qwen2 Q5_K_M mix GPU tiles, unmerged") << int(Arch::Qwen2) << int(Type::Q5_K) << false << 1e-3
                                                          << (kMix | kUnmerged | kGpuTiles);
    QTest::newRow("qwen2 F32 unaligned parts, GPU tiles") << int(Arch::Qwen2) << int(Type::F32) << false << 1e-9
                                                          << (kOddShape | kGpuTiles);
    // The decode products with x in 8 bits (Q4_K, Q6_K, Q8_0's pairs), where the device has integer dot products:
    // with the carried norms and folded SwiGLU (the default step), split bindings, and without either. The CPU
    // rounds x to 8 bits too (Q8_0 / Q8_K), so the rows keep the quantized rows' 1e-3.
    QTest::newRow("qwen2 Q4_K_M mix, x in 8 bits") << int(Arch::Qwen2) << int(Type::Q4_K) << false << 1e-3
                                                   << (kMix | kQ8x);
    QTest::newRow("llama Q8_0 rope_freqs, x in 8 bits, every slot loading")
        << int(Arch::Llama) << int(Type::Q8_0) << true << 1e-3 << int(kQ8xAll);
    QTest::newRow("qwen3 Q4_K_M mix, x in 8 bits, split bindings") << int(Arch::Qwen3) << int(Type::Q4_K) << false << 1e-3
                                                                   << (kMix | kSplit | kQ8x);
    QTest::newRow("qwen2 Q6_K, x in 8 bits, norms apart, unfolded") << int(Arch::Qwen2) << int(Type::Q6_K) << false
                                                                    << 1e-3 << (kQ8xAll | kNoCarry | kNoFold);
  }
  void parity_with_cpu() {
    QFETCH(int, arch);
    QFETCH(int, type);
    QFETCH(bool, extra);
    QFETCH(double, tolerance);
    QFETCH(int, variant);
    model::SynthSpec spec = tiny_spec(Arch(arch), Type(type), extra, variant & kMix);
    if (variant & kOddShape) {
      spec.n_embd = 64;
      spec.n_head = 3;
      spec.n_head_kv = 1;
      spec.head_dim = 6;
    }
    auto m = synth_model(spec, QString("m%1_%2_%3_%4.gguf").arg(arch).arg(type).arg(extra)
                                   .arg(variant & (kMix | kOddShape)));
    VKT_OK(m);
    const model::Model& model = **m;

    auto cpu = cpu::create_evaluator(model, {.n_ctx = 64, .n_threads = 1, .n_batch = 8});
    VKT_OK(cpu);
    vulkan::EvaluatorOptions opt{.n_ctx = 64, .device = vkt::device_override(), .validation = true};
    if (variant & kUnmerged) opt.merge = vulkan::EvaluatorOptions::Merges{false, false, false};
    else opt.merge = vulkan::EvaluatorOptions::Merges{};
    opt.swiglu_fold = !(variant & kNoFold);
    opt.norm_carry = !(variant & kNoCarry);
    opt.rope_in_attention = !(variant & kNoRopeAttn);
    if (variant & kSplit) opt.max_binding_bytes = variant & kParts ? 4000 : 40000;
    const uint64_t limit = quant::row_size(Type(type), spec.n_embd) * 75 / 2;
    if (variant & kParts) opt.max_allocation_bytes = limit;
    if (variant & kGpuTiles) {
      opt.profile = true;  // the prompt profile names the shaders that ran (below)
      qputenv("PENSER_VK_MUL_MM_TILES", "2");
      qputenv("PENSER_VK_MUL_MM_KERNEL", "1");
      qputenv("PENSER_VK_MUL_MM_COOPMAT", "0");  // the tiles also where the device has cooperative matrices
    }
    if (variant & kCoopmat) {
      opt.mul_mm_coopmat = 2;
      opt.profile = true;  // to see which kernel the prompt's products ran
    }
    const bool q8x = variant & (kQ8x | kQ8xAll);
    if (q8x) {
      opt.profile = true;  // the decode profile names the products' modules (below)
      qputenv("PENSER_VK_MUL_MV_Q8X", variant & kQ8xAll ? "2" : "1");
      qputenv("PENSER_VK_MUL_MV_ROW_LANES", "0");
    }
    auto gpu = vulkan::create_evaluator(model, opt);
    qunsetenv("PENSER_VK_MUL_MM_TILES");
    qunsetenv("PENSER_VK_MUL_MM_KERNEL");
    if (variant & kGpuTiles) qunsetenv("PENSER_VK_MUL_MM_COOPMAT");
    qunsetenv("PENSER_VK_MUL_MV_Q8X");
    qunsetenv("PENSER_VK_MUL_MV_ROW_LANES");
    VKT_OK(gpu);
    QVERIFY((*gpu)->backend_name().rfind("vulkan: ", 0) == 0);

    const uint32_t V = model.hparams().n_vocab;
    std::vector<float> lc(V), lg(V);
    const std::vector<tokenizer::Token> prompt = {1, 17, 200, 3, 99, 42, 7};
    VKT_OK((*cpu)->eval(prompt, lc));
    VKT_OK((*gpu)->eval(prompt, lg));
    QCOMPARE((*gpu)->n_past(), uint32_t(prompt.size()));
    if (variant & kCoopmat) {
      auto pp = vulkan::take_prompt_profile(**gpu);
      VKT_OK(pp);
      const auto ran = std::count_if(pp->dispatches.begin(), pp->dispatches.end(),
                                     [](const auto& d) { return d.shader.starts_with("mul_mm_cm_emu_"); });
      QVERIFY2(ran > 0, "the prompt's products did not run on the emulated cooperative-matrix kernel");
    }
    const double err = nmse(lg, lc);
    if (variant & kCoopmat) qDebug("logits nmse %.3g", err);
    QVERIFY2(err < tolerance, fmt::format("logits nmse {:.3g} (tolerance {:.1g})", err, tolerance).c_str());
    if (variant & kGpuTiles) {  // every prompt product ran mul_mm_gpu.comp
      auto pp = vulkan::take_prompt_profile(**gpu);
      VKT_OK(pp);
      int products = 0;
      for (const Recorder::DispatchTime& d : pp->dispatches)
        if (d.shader.rfind("mul_mm", 0) == 0) {
          QVERIFY2(d.shader.rfind("mul_mm_gpu_", 0) == 0, d.shader.c_str());
          ++products;
        }
      QVERIFY(products > 0);
    }
    // On a CPU implementation with 8-lane subgroups and 64-bit integers (lavapipe on AVX2: Ops::interleaves)
    // the products of these types read interleaved weights (Matrix::interleaved): the parity above was theirs
    // (Q8_0 in units of 8 blocks, rows of 256 and 512 here).
    {
      auto wa = vulkan::weight_allocations(**gpu);
      VKT_OK(wa);
      if (wa->cpu_implementation && wa->subgroup_size == 8 && wa->int64 && !(variant & (kOddShape | kGpuTiles | kCoopmat | kQ8x | kQ8xAll)) &&
          (type == int(Type::Q4_K) || type == int(Type::Q5_K) || type == int(Type::Q6_K) || type == int(Type::Q8_0)))
        QVERIFY2(wa->interleaved > 0, "no matrix was interleaved on a CPU implementation");
      if (variant & kCoopmat) QCOMPARE(wa->interleaved, 0u);  // mul_mm_cm.comp reads the file layout
    }
    if (variant & kParts) {
      auto a = vulkan::weight_allocations(**gpu);
      VKT_OK(a);
      // Every matrix split (2 per layer merged or 7 unmerged, token_embd, and output unless tied), and no
      // allocation above the limit.
      const uint32_t per_layer = variant & kUnmerged ? 7 : variant & kMix ? 3 : 4;  // mix: Q|K, V, gate|up, down
      QVERIFY2(a->largest <= limit && a->split_matrices >= 2 * per_layer + 1 + (extra ? 0 : 1),
               fmt::format("{} allocations, the largest {} (limit {}), {} matrices split", a->count, a->largest, limit,
                           a->split_matrices).c_str());
      // The same logits as with one allocation per matrix.
      opt.max_allocation_bytes = 0;
      auto whole = vulkan::create_evaluator(model, opt);
      VKT_OK(whole);
      std::vector<float> lw(V);
      VKT_OK((*whole)->eval(prompt, lw));
      const double ew = nmse(lg, lw);
      QVERIFY2(ew < 1e-12, fmt::format("parts vs whole: logits nmse {:.3g}", ew).c_str());
      auto aw = vulkan::weight_allocations(**whole);
      VKT_OK(aw);
      QCOMPARE(aw->split_matrices, 0u);
      QVERIFY(aw->count < a->count);
      QCOMPARE(a->bytes, aw->bytes);  // the same bytes (what estimate_device_bytes counts), tied ones once
      uint64_t file_bytes = 0;
      const model::Weights& w = model.weights();
      for (const model::Tensor* t : {&w.token_embd, &w.output})
        if (t == &w.token_embd || t->data != w.token_embd.data) file_bytes += uint64_t(t->row_bytes) * t->ne1;
      for (const model::Layer& L : w.layers)
        for (const model::Tensor* t : {&L.wq, &L.wk, &L.wv, &L.wo, &L.ffn_gate, &L.ffn_up, &L.ffn_down})
          file_bytes += uint64_t(t->row_bytes) * t->ne1;
      // Plus the padding of interleaved matrices (CPU implementations: Q4_K, Q5_K, Q6_K and Q8_0, the Q6_K blocks
      // padded to 224 bytes), which the estimate counts as a bound.
      QCOMPARE(a->bytes, file_bytes + a->padding);
      QCOMPARE(aw->padding, a->padding);
      if (a->cpu_implementation && (type == int(Type::Q4_K) || type == int(Type::Q5_K) || type == int(Type::Q8_0))) {
        // Interleaved where the device takes the row-per-lane products (8-lane subgroups, 64-bit integers).
        if (a->subgroup_size == 8 && a->int64)
          QVERIFY2(a->interleaved > 0, "the K-type matrices were not interleaved on a CPU implementation");
        QVERIFY(a->bytes <= vulkan::estimate_device_bytes(model, 1, 1, true));
      }
    }

    // Greedy decoding. With f32/f16 weights both backends do the same arithmetic: free-running greedy
    // decoding must pick the same tokens. With quantized weights the CPU's Q8 activations move logits by
    // ~1e-2, enough to flip near-ties of a random model: both are fed the CPU's choice (teacher forcing) and
    // the GPU's pick must match wherever the CPU's top two logits are more than 0.05 apart.
    const bool exact = Type(type) == Type::F32 || Type(type) == Type::F16;
    std::vector<int> tc, tg;
    int decided = 0;
    for (int i = 0; i < 10; ++i) {
      const int c = argmax(lc), g = argmax(lg);
      tc.push_back(c);
      tg.push_back(g);
      std::vector<float> sorted = lc;
      std::partial_sort(sorted.begin(), sorted.begin() + 2, sorted.end(), std::greater<float>());
      if (!exact && sorted[0] - sorted[1] > 0.05f) {
        ++decided;
        QVERIFY2(c == g, fmt::format("step {}: cpu {} ({}), gpu {} ({})", i, c, lc[c], g, lc[g]).c_str());
      }
      VKT_OK((*cpu)->eval(std::vector<tokenizer::Token>{c}, lc));
      VKT_OK((*gpu)->eval(std::vector<tokenizer::Token>{exact ? g : c}, lg));
    }
    if (exact) QCOMPARE(tg, tc);
    else QVERIFY2(decided >= 5, fmt::format("only {} clear decisions in 10 steps", decided).c_str());
    if (q8x) {  // the decode step's Q4_K / Q6_K / Q8_0 products ran the X_Q8 modules, where the device has them
      auto sp = vulkan::take_profile(**gpu);
      VKT_OK(sp);
      int q8 = 0, other = 0;
      for (const Recorder::DispatchTime& d : sp->dispatches)
        if (d.shader.starts_with("mul_mv_q4_k") || d.shader.starts_with("mul_mv_q6_k") || d.shader.starts_with("mul_mv_q8_0"))
          ++(d.shader.ends_with("_q8x") ? q8 : other);
      QVERIFY(q8 + other > 0);
      auto wa = vulkan::weight_allocations(**gpu);
      VKT_OK(wa);
      if (wa->integer_dot) QVERIFY2(other == 0, fmt::format("{} products in 8 bits, {} not", q8, other).c_str());
      else QCOMPARE(q8, 0);
    }

    // Truncate and re-evaluate: the same logits as the first time (the cache is overwritten in place).
    (*gpu)->truncate(uint32_t(prompt.size()) - 1);
    VKT_OK((*gpu)->eval(std::vector<tokenizer::Token>{prompt.back()}, lg));
    (*cpu)->truncate(uint32_t(prompt.size()) - 1);
    VKT_OK((*cpu)->eval(std::vector<tokenizer::Token>{prompt.back()}, lc));
    QVERIFY(nmse(lg, lc) < tolerance);

    // Errors leave the state unchanged.
    QVERIFY(!(*gpu)->eval(std::vector<tokenizer::Token>{int(V)}, lg));
    QCOMPARE((*gpu)->n_past(), uint32_t(prompt.size()));
  }

  // A weight row larger than the allocation limit cannot be split by rows: a clear error, not a crash.
  void allocation_limit_below_a_row() {
    const model::SynthSpec spec = tiny_spec(Arch::Qwen2, Type::F32, false, false);
    auto m = synth_model(spec, "limit.gguf");
    VKT_OK(m);
    vulkan::EvaluatorOptions opt{.n_ctx = 16, .device = vkt::device_override(), .validation = true};
    opt.max_allocation_bytes = 1000;  // an F32 row of 256 values is 1024 bytes
    auto e = vulkan::create_evaluator(**m, opt);
    QVERIFY(!e);
    QVERIFY2(e.error().message.find("token_embd.weight: one row of") != std::string::npos, e.error().message.c_str());
  }

  // The merged decode step (the default) computes what the unmerged one does in fewer dispatches: the same
  // logits at every step of a decode fed the same tokens, and the profile lists the merged products and
  // rope_kv in place of the separate ones. The Q4_K_M mix merges Q/K/V in layer 0 and Q/K in layer 1 (its V
  // is Q6_K there). Every token goes through the decode step (n_batch 1).
  void merged_step_data() {
    QTest::addColumn<int>("arch");
    QTest::addColumn<bool>("extra");
    QTest::newRow("qwen2 (biases)") << int(Arch::Qwen2) << false;
    QTest::newRow("qwen3 (Q/K norms)") << int(Arch::Qwen3) << false;
    QTest::newRow("llama (rope_freqs)") << int(Arch::Llama) << true;
  }
  void merged_step() {
    QFETCH(int, arch);
    QFETCH(bool, extra);
    const model::SynthSpec spec = tiny_spec(Arch(arch), Type::Q4_K, extra, true);
    auto m = synth_model(spec, QString("merged%1.gguf").arg(arch));
    VKT_OK(m);
    const model::Model& model = **m;
    QCOMPARE(model.weights().layers[0].wv.type, Type::Q4_K);
    QCOMPARE(model.weights().layers[1].wv.type, Type::Q6_K);
    auto make = [&](bool merged) {
      vulkan::EvaluatorOptions opt{.n_ctx = 64, .device = vkt::device_override(), .validation = true, .profile = true,
                                   .n_batch = 1};
      opt.merge = merged ? vulkan::EvaluatorOptions::Merges{} : vulkan::EvaluatorOptions::Merges{false, false, false};
      opt.swiglu_fold = false;  // the merges alone (swiglu_fold_step: the fold, norm_carry_step: the norms,
      opt.norm_carry = false;   // rope_attention_step: rope_kv inside the attention)
      opt.rope_in_attention = false;
      return vulkan::create_evaluator(model, opt);
    };
    auto on = make(true), off = make(false);
    VKT_OK(on);
    VKT_OK(off);
    const uint32_t V = model.hparams().n_vocab;
    // Not bit-identical where the unmerged step's Q/K norms (qwen3) run rms_norm_cpu.comp on a CPU
    // implementation: it sums in another order than rope_kv.comp (4.75e-10 seen at step 0).
    check_same_steps(*on, *off, V, 1e-8, "merged vs unmerged");
    if (QTest::currentTestFailed()) return;

    // A shader and its variants of the same product (mul_mv_q4_k_i64: lavapipe's 8-byte loads of Q4_K;
    // _i64_ubo / _i64_xt: with x as a uniform buffer or texels).
    auto count = [](const vulkan::StepProfile& p, const std::string& shader, const std::string& label = "") {
      return std::count_if(p.dispatches.begin(), p.dispatches.end(), [&](const Recorder::DispatchTime& d) {
        return (d.shader == shader || d.shader == shader + "_i64" || d.shader == shader + "_i64_ubo" ||
                d.shader == shader + "_i64_xt" || d.shader == shader + "_il" || d.shader == shader + "_il_ubo" ||
                d.shader == shader + "_il_xt" || d.shader == shader + "_cpu") &&
               (label.empty() || d.label == label);
      });
    };
    auto pon = vulkan::take_profile(**on), poff = vulkan::take_profile(**off);
    VKT_OK(pon);
    VKT_OK(poff);
    const bool qwen3 = Arch(arch) == Arch::Qwen3;
    // Per layer unmerged: norm, Wq, Wk, Wv, [2 Q/K norms], 2 RoPE, 2 KV stores, attention, Wo, norm, gate, up,
    // SwiGLU, down; merged: norm, QKV (or QK + V), rope_kv, attention, Wo, norm, gate|up, SwiGLU, down.
    // Plus the embedding lookup, the output norm and the output product.
    // On a GPU the decode attention is split over ranges of positions (a reduction after it: one dispatch and
    // one barrier more a layer; the H200 run of 2026-11-30); lavapipe at this context runs it whole.
    const size_t reduce_off = count(*poff, "attn_reduce"), reduce_on = count(*pon, "attn_reduce");
    QVERIFY(reduce_off == 0 || reduce_off == 2);
    QCOMPARE(reduce_on, reduce_off);
    QCOMPARE(poff->dispatches.size(), size_t(3 + 2 * (qwen3 ? 17 : 15)) + reduce_off);
    QCOMPARE(pon->dispatches.size(), size_t(3 + 9 + 10) + reduce_on);
    QCOMPARE(count(*pon, "rope_kv"), 2);
    QCOMPARE(count(*pon, "rope") + count(*pon, "kv_store"), 0);
    QCOMPARE(count(*pon, "rms_norm"), 5);
    QCOMPARE(count(*pon, "mul_mv_q4_k", "attn_qkv.weight"), 1);
    QCOMPARE(count(*pon, "mul_mv_q4_k", "attn_qk.weight"), 1);
    QCOMPARE(count(*pon, "mul_mv_q6_k", "attn_v.weight"), 1);
    QCOMPARE(count(*pon, "mul_mv_q4_k", "ffn_gate_up.weight"), 2);
    QCOMPARE(count(*poff, "rope"), 4);
    QCOMPARE(count(*poff, "kv_store"), 4);
    QCOMPARE(count(*poff, "mul_mv_q4_k", "attn_q.weight"), 2);
    QCOMPARE(count(*poff, "mul_mv_q4_k", "ffn_up.weight"), 2);
    // Barriers: unmerged per layer norm | Wq Wk Wv | [Q/K norms |] RoPE q, k | KV stores | attention | Wo |
    // norm | gate up | SwiGLU | down; merged norm | QKV (or QK, V) | rope_kv | attention | Wo | norm | gate|up
    // | SwiGLU | down. Plus the output norm and product (the embedding lookup, first, needs none).
    QCOMPARE(poff->barriers, uint32_t(2 + 2 * (qwen3 ? 11 : 10) + reduce_off));
    QCOMPARE(pon->barriers, uint32_t(2 + 2 * 9 + reduce_on));
  }

  // SwiGLU folded into the gate|up product (EvaluatorOptions::swiglu_fold, the default) computes what the
  // product and the swiglu dispatch do: the same logits at every step of a decode fed the same tokens (every
  // token through the decode step, n_batch 1) and after a prompt of 7 tokens through the prompt path
  // (n_batch 4: batches of 4 and 3), one dispatch and one barrier fewer per layer in both, and the profiles
  // list the folded product in place of the product and swiglu. Q4_K_M mix (Q6_K ffn_down) and Q8_0.
  void swiglu_fold_step_data() {
    QTest::addColumn<int>("arch");
    QTest::addColumn<int>("type");
    QTest::newRow("qwen2 Q4_K_M") << int(Arch::Qwen2) << int(Type::Q4_K);
    QTest::newRow("qwen3 Q8_0") << int(Arch::Qwen3) << int(Type::Q8_0);
    QTest::newRow("llama Q6_K") << int(Arch::Llama) << int(Type::Q6_K);
  }
  void swiglu_fold_step() {
    QFETCH(int, arch);
    QFETCH(int, type);
    const model::SynthSpec spec = tiny_spec(Arch(arch), Type(type), false, Type(type) == Type::Q4_K);
    auto m = synth_model(spec, QString("fold%1_%2.gguf").arg(arch).arg(type));
    VKT_OK(m);
    const model::Model& model = **m;
    auto make = [&](bool fold, uint32_t n_batch) {
      vulkan::EvaluatorOptions opt{.n_ctx = 64, .device = vkt::device_override(), .validation = true, .profile = true,
                                   .n_batch = n_batch};
      opt.merge = vulkan::EvaluatorOptions::Merges{};
      opt.swiglu_fold = fold;
      opt.norm_carry = false;  // the fold alone
      return vulkan::create_evaluator(model, opt);
    };
    const uint32_t V = model.hparams().n_vocab;
    auto labelled = [](const std::vector<Recorder::DispatchTime>& ds, const std::string& label) {
      return std::count_if(ds.begin(), ds.end(), [&](const Recorder::DispatchTime& d) { return d.label == label; });
    };
    auto shader = [](const std::vector<Recorder::DispatchTime>& ds, const std::string& name) {
      return std::count_if(ds.begin(), ds.end(), [&](const Recorder::DispatchTime& d) {
        return d.shader == name || d.shader == name + "_cpu";
      });
    };
    {  // decode
      auto on = make(true, 1), off = make(false, 1);
      VKT_OK(on);
      VKT_OK(off);
      check_same_steps(*on, *off, V, 1e-10, "folded vs unfolded");
      if (QTest::currentTestFailed()) return;
      auto pon = vulkan::take_profile(**on), poff = vulkan::take_profile(**off);
      VKT_OK(pon);
      VKT_OK(poff);
      QCOMPARE(pon->dispatches.size() + 2, poff->dispatches.size());
      QCOMPARE(pon->barriers + 2, poff->barriers);
      QCOMPARE(labelled(pon->dispatches, "ffn_gate_up+swiglu"), 2);
      QCOMPARE(labelled(pon->dispatches, "ffn_gate_up.weight") + shader(pon->dispatches, "swiglu"), 0);
      QCOMPARE(labelled(poff->dispatches, "ffn_gate_up.weight"), 2);
      QCOMPARE(shader(poff->dispatches, "swiglu"), 2);
    }
    {  // prompt
      auto on = make(true, 4), off = make(false, 4);
      VKT_OK(on);
      VKT_OK(off);
      std::vector<float> lon(V), loff(V);
      const std::vector<tokenizer::Token> prompt = {1, 17, 200, 3, 99, 42, 7};
      VKT_OK((*on)->eval(prompt, lon));
      VKT_OK((*off)->eval(prompt, loff));
      const double err = nmse(lon, loff);
      QVERIFY2(err < 1e-10, fmt::format("prompt: folded vs unfolded nmse {:.3g}", err).c_str());
      auto pon = vulkan::take_prompt_profile(**on), poff = vulkan::take_prompt_profile(**off);
      VKT_OK(pon);
      VKT_OK(poff);
      QVERIFY(labelled(pon->dispatches, "ffn_gate_up+swiglu") >= 2);
      QCOMPARE(labelled(pon->dispatches, "ffn_gate_up.weight") + shader(pon->dispatches, "swiglu"), 0);
      QVERIFY(labelled(poff->dispatches, "ffn_gate_up.weight") >= 2 && shader(poff->dispatches, "swiglu") >= 2);
      auto con = vulkan::prompt_counts(**on), coff = vulkan::prompt_counts(**off);
      VKT_OK(con);
      VKT_OK(coff);
      QVERIFY(!con->empty() && con->size() == coff->size());
      // Per submission (a layer on CPU implementations, a batch of all layers on GPUs): one dispatch and one
      // barrier fewer per layer.
      const uint32_t L = model.hparams().n_layer, per = con->size() == L ? 1 : L;
      for (size_t i = 0; i < con->size(); ++i) {
        QCOMPARE((*con)[i].dispatches + per, (*coff)[i].dispatches);
        QCOMPARE((*con)[i].barriers + per, (*coff)[i].barriers);
      }
    }
  }

  // The RMSNorms carried by the products (EvaluatorOptions::norm_carry, the default) compute what the norm
  // dispatches do: the same logits at every step of a decode fed the same tokens, with 2 dispatches and 2
  // barrier stages fewer per layer (layer 0's attention norm stays). Q4_K_M mix (Q|K and V apart in layer 1:
  // two consumers), qwen3 (Q/K norms after the carried one), llama unmerged (three consumers), and 4000-byte
  // bindings (every producer in several dispatches, whose partial sums follow one another). The carried
  // step from PENSER_VK_NORM_CARRY unset, the other from PENSER_VK_NORM_CARRY=0 (the GPU script's knob).
  void norm_carry_step_data() {
    QTest::addColumn<int>("arch");
    QTest::addColumn<int>("type");
    QTest::addColumn<bool>("mix");
    QTest::addColumn<bool>("merged");
    QTest::addColumn<uint32_t>("binding");  // max_binding_bytes, 0: the device's
    QTest::newRow("qwen2 Q4_K_M") << int(Arch::Qwen2) << int(Type::Q4_K) << true << true << 0u;
    QTest::newRow("qwen3 Q8_0") << int(Arch::Qwen3) << int(Type::Q8_0) << false << true << 0u;
    QTest::newRow("llama Q6_K unmerged") << int(Arch::Llama) << int(Type::Q6_K) << false << false << 0u;
    QTest::newRow("qwen2 F32 split bindings") << int(Arch::Qwen2) << int(Type::F32) << false << true << 4000u;
    QTest::newRow("qwen2 Q4_K split bindings") << int(Arch::Qwen2) << int(Type::Q4_K) << false << true << 4000u;
  }
  void norm_carry_step() {
    QFETCH(int, arch);
    QFETCH(int, type);
    QFETCH(bool, mix);
    QFETCH(bool, merged);
    QFETCH(uint32_t, binding);
    const model::SynthSpec spec = tiny_spec(Arch(arch), Type(type), false, mix);
    auto m = synth_model(spec, QString("carry%1_%2_%3.gguf").arg(arch).arg(type).arg(mix), /*reuse=*/true);
    VKT_OK(m);
    const model::Model& model = **m;
    vulkan::EvaluatorOptions opt{.n_ctx = 64, .device = vkt::device_override(), .validation = true, .profile = true,
                                 .n_batch = 1};
    opt.merge = merged ? vulkan::EvaluatorOptions::Merges{} : vulkan::EvaluatorOptions::Merges{false, false, false};
    opt.max_binding_bytes = binding;
    auto [on, off] = default_and_off(model, opt, "PENSER_VK_NORM_CARRY");
    VKT_OK(on);
    VKT_OK(off);
    const uint32_t V = model.hparams().n_vocab, L = model.hparams().n_layer;
    // Not bit-identical: dot(A, x * w) / rms(x) rounds otherwise than dot(A, x / rms(x) * w), and the sum of
    // squares is added up in another order. 1e-10 held at lavapipe's 8 lanes but not at 4 or 16
    // (LP_NATIVE_VECTOR_WIDTH=128 / 512: 2.3e-10, 2.5e-10), nor would it at a GPU's 32; a wrong norm is >= 1e-4.
    check_same_steps(*on, *off, V, 1e-8, "carried vs separate norms");
    if (QTest::currentTestFailed()) return;
    auto pon = vulkan::take_profile(**on), poff = vulkan::take_profile(**off);
    VKT_OK(pon);
    VKT_OK(poff);
    auto norms = [](const vulkan::StepProfile& p) {
      return std::count_if(p.dispatches.begin(), p.dispatches.end(), [](const Recorder::DispatchTime& d) {
        return d.shader.starts_with("rms_norm");
      });
    };
    const int qk_norms = Arch(arch) == Arch::Qwen3 && !merged ? 2 * int(L) : 0;  // unmerged qwen3: rms_norm too
    QCOMPARE(norms(*poff), 2 * int(L) + 1 + qk_norms);
    QCOMPARE(norms(*pon), 1 + qk_norms);
    QCOMPARE(pon->dispatches.size() + 2 * L, poff->dispatches.size());
    QCOMPARE(pon->barriers + 2 * L, poff->barriers);
    if (binding) {  // the producers really were split: more than one dispatch for Wo
      const auto wo = std::count_if(pon->dispatches.begin(), pon->dispatches.end(),
                                    [](const Recorder::DispatchTime& d) { return d.label == "attn_output.weight"; });
      QVERIFY2(wo > int(L), fmt::format("{} attn_output dispatches", wo).c_str());
    }
  }

  // rope_kv folded into the decode attention (EvaluatorOptions::rope_in_attention, the default where the
  // grouped kernel runs) computes what rope_kv + the attention do: the same logits at every step of a decode
  // fed the same tokens (each step reads the K/V the earlier ones stored; not bit-identical: the new position
  // enters the online softmax after the walk instead of in its last block), and again after truncate() and a
  // re-evaluation over the positions it overwrites; one dispatch and one barrier stage fewer per layer, no
  // rope_kv. qwen2 Q4_K_M mix (biases, V apart in layer 1), qwen3 (Q/K norms), llama rope_freqs, and split-K
  // decode (the new position in the last range). The folded step from PENSER_VK_ROPE_ATTN unset, the other
  // from PENSER_VK_ROPE_ATTN=0 (the GPU script's knob).
  void rope_attention_step_data() {
    QTest::addColumn<int>("arch");
    QTest::addColumn<int>("type");
    QTest::addColumn<bool>("extra");
    QTest::addColumn<bool>("mix");
    QTest::addColumn<uint32_t>("split");  // EvaluatorOptions::decode_split
    QTest::newRow("qwen2 Q4_K_M") << int(Arch::Qwen2) << int(Type::Q4_K) << false << true << 0u;
    QTest::newRow("qwen3 Q8_0") << int(Arch::Qwen3) << int(Type::Q8_0) << false << false << 0u;
    QTest::newRow("llama Q6_K rope_freqs") << int(Arch::Llama) << int(Type::Q6_K) << true << false << 0u;
    QTest::newRow("qwen3 Q8_0 split decode") << int(Arch::Qwen3) << int(Type::Q8_0) << false << false << 3u;
  }
  void rope_attention_step() {
    QFETCH(int, arch);
    QFETCH(int, type);
    QFETCH(bool, extra);
    QFETCH(bool, mix);
    QFETCH(uint32_t, split);
    const model::SynthSpec spec = tiny_spec(Arch(arch), Type(type), extra, mix);
    auto m = synth_model(spec, QString("ropeattn%1_%2_%3_%4.gguf").arg(arch).arg(type).arg(extra).arg(mix),
                         /*reuse=*/true);
    VKT_OK(m);
    const model::Model& model = **m;
    const vulkan::EvaluatorOptions opt{.n_ctx = 64, .device = vkt::device_override(), .validation = true,
                                       .profile = true, .n_batch = 1, .decode_split = split};
    auto [on, off] = default_and_off(model, opt, "PENSER_VK_ROPE_ATTN");
    VKT_OK(on);
    VKT_OK(off);
    const uint32_t V = model.hparams().n_vocab, L = model.hparams().n_layer;
    // 1e-8 as for the carried norm: 2.4e-10 at 4-lane subgroups (LP_NATIVE_VECTOR_WIDTH=128).
    check_same_steps(*on, *off, V, 1e-8, "rope_kv inside vs before the attention");
    if (QTest::currentTestFailed()) return;
    // Back to 3 tokens, then 4 new ones over the positions the steps above wrote.
    (*on)->truncate(3);
    (*off)->truncate(3);
    std::vector<float> lon(V), loff(V);
    for (tokenizer::Token t : {5, 250, 9, 77}) {
      VKT_OK((*on)->eval(std::vector<tokenizer::Token>{t}, lon));
      VKT_OK((*off)->eval(std::vector<tokenizer::Token>{t}, loff));
      const double err = nmse(lon, loff);
      QVERIFY2(err < 1e-10, fmt::format("after truncate(3), token {}: nmse {:.3g}", t, err).c_str());
    }
    auto pon = vulkan::take_profile(**on), poff = vulkan::take_profile(**off);
    VKT_OK(pon);
    VKT_OK(poff);
    auto count = [](const vulkan::StepProfile& p, auto pred) { return std::count_if(p.dispatches.begin(), p.dispatches.end(), pred); };
    const auto fused = [](const Recorder::DispatchTime& d) { return d.shader.ends_with("_rope"); };
    const auto rope_kv = [](const Recorder::DispatchTime& d) { return d.shader == "rope_kv"; };
    const auto grouped = [](const Recorder::DispatchTime& d) { return d.shader.starts_with("attn_decode_gqa"); };
    if (count(*poff, grouped) == 0) QSKIP("the per-head attention runs here (no subgroup arithmetic): rope_kv stays");
    QCOMPARE(count(*pon, fused), int(L));
    QCOMPARE(count(*pon, rope_kv), 0);
    QCOMPARE(count(*poff, fused), 0);
    QCOMPARE(count(*poff, rope_kv), int(L));
    QCOMPARE(pon->dispatches.size() + L, poff->dispatches.size());
    QCOMPARE(pon->barriers + L, poff->barriers);
    if (split > 1) {  // the split layout ran: its reduction after every attention
      QCOMPARE(count(*pon, [](const Recorder::DispatchTime& d) { return d.shader == "attn_reduce"; }), int(L));
    }
  }

  // The measurement knobs the GPU script sweeps do what they say: with EvaluatorOptions::merge /
  // swiglu_fold unset, PENSER_VK_MERGE and PENSER_VK_SWIGLU_FOLD choose the decode step's dispatches
  // (qwen2 Q4_K: every layer merges).
  void environment_knobs_data() {
    QTest::addColumn<QByteArray>("merge");
    QTest::addColumn<QByteArray>("fold");  // PENSER_VK_SWIGLU_FOLD
    QTest::addColumn<QStringList>("present");
    QTest::addColumn<QStringList>("absent");
    // Merged (the default) with SwiGLU folded into gate|up (the default): no swiglu dispatch.
    const QStringList merged = {"attn_qkv.weight", "ffn_gate_up+swiglu", "rope_kv", "rms_norm"};
    const QStringList separate = {"attn_q.weight", "attn_v.weight", "ffn_gate.weight", "ffn_up.weight", "rope",
                                  "kv_store", "ffn_gate_up.weight", "swiglu"};
    const QByteArray unset;
    QTest::newRow("unset") << unset << unset << merged << separate;
    QTest::newRow("all") << QByteArray("all") << unset << merged << separate;
    QTest::newRow("0") << QByteArray("0") << unset << separate.mid(0, 6) + QStringList{"swiglu"}
                       << merged.mid(0, 3) + QStringList{"ffn_gate_up.weight"};
    QTest::newRow("qkv") << QByteArray("qkv") << unset
                         << QStringList{"attn_qkv.weight", "ffn_gate.weight", "rope", "kv_store", "swiglu"}
                         << QStringList{"attn_q.weight", "ffn_gate_up.weight", "ffn_gate_up+swiglu", "rope_kv"};
    QTest::newRow("gate_up,rope_kv") << QByteArray("gate_up,rope_kv") << unset
                                     << QStringList{"attn_q.weight", "ffn_gate_up+swiglu", "rope_kv"}
                                     << QStringList{"attn_qkv.weight", "ffn_gate.weight", "rope", "kv_store", "swiglu"};
    QTest::newRow("fold 0") << unset << QByteArray("0") << QStringList{"ffn_gate_up.weight", "swiglu"}
                            << QStringList{"ffn_gate_up+swiglu"};
  }
  void environment_knobs() {
    QFETCH(QByteArray, merge);
    QFETCH(QByteArray, fold);
    QFETCH(QStringList, present);
    QFETCH(QStringList, absent);
    const model::SynthSpec spec = tiny_spec(Arch::Qwen2, Type::Q4_K, false, false);
    auto m = synth_model(spec, "knobs.gguf", /*reuse=*/true);
    VKT_OK(m);
    auto set = [](const char* name, const QByteArray& v) {
      if (v.isNull()) qunsetenv(name);
      else qputenv(name, v);
    };
    set("PENSER_VK_MERGE", merge);
    set("PENSER_VK_SWIGLU_FOLD", fold);
    qputenv("PENSER_VK_ROPE_ATTN", "0");  // rope_kv's own dispatch, which the rows name (rope_attention_step: this knob)
    auto gpu = vulkan::create_evaluator(**m, {.n_ctx = 16, .device = vkt::device_override(), .validation = true,
                                              .profile = true, .n_batch = 1});
    qunsetenv("PENSER_VK_MERGE");
    qunsetenv("PENSER_VK_SWIGLU_FOLD");
    qunsetenv("PENSER_VK_ROPE_ATTN");
    VKT_OK(gpu);
    std::vector<float> logits((*m)->hparams().n_vocab);
    VKT_OK((*gpu)->eval(std::vector<tokenizer::Token>{5}, logits));
    auto p = vulkan::take_profile(**gpu);
    VKT_OK(p);
    QStringList names;  // shaders and matrix names of the recorded step
    for (const Recorder::DispatchTime& d : p->dispatches) names << QString::fromStdString(d.shader)
                                                                << QString::fromStdString(d.label);
    // A small op's shader or its CPU-implementation variant (rms_norm_cpu, swiglu_cpu: Ops::Options::small_cpu).
    auto has = [&](const QString& n) { return names.contains(n) || names.contains(n + "_cpu"); };
    for (const QString& n : present) QVERIFY2(has(n), qPrintable(n + " missing: " + names.join(' ')));
    for (const QString& n : absent) QVERIFY2(!has(n), qPrintable(n + " present: " + names.join(' ')));
  }

  // PENSER_VK_MAX_ALLOCATION (the GPU script's weights-in-parts run) applies when the option is unset, and
  // the option wins over it.
  void allocation_knob() {
    const model::SynthSpec spec = tiny_spec(Arch::Qwen2, Type::Q4_K, false, false);
    auto m = synth_model(spec, "knobs.gguf", /*reuse=*/true);
    VKT_OK(m);
    qputenv("PENSER_VK_MAX_ALLOCATION", "20000");
    vulkan::EvaluatorOptions opt{.n_ctx = 16, .device = vkt::device_override(), .validation = true};
    auto knob = vulkan::create_evaluator(**m, opt);
    opt.max_allocation_bytes = 1u << 30;
    auto option = vulkan::create_evaluator(**m, opt);
    qunsetenv("PENSER_VK_MAX_ALLOCATION");
    VKT_OK(knob);
    VKT_OK(option);
    auto a = vulkan::weight_allocations(**knob), b = vulkan::weight_allocations(**option);
    VKT_OK(a);
    VKT_OK(b);
    QVERIFY2(a->largest <= 20000 && a->split_matrices > 0, fmt::format("largest {}", a->largest).c_str());
    QCOMPARE(b->split_matrices, 0u);
  }

  // An integrated GPU whose device-local heap is full (a Windows AMD APU's 512 MiB carve-out) keeps loading:
  // the buffers past it go to system memory (Buffer::create; here the heap is made "full" after 64 KiB by
  // the test limit). The same logits as with everything device-local, through the prompt batch and decode
  // steps; weights in system memory are counted; a limit of 0 leaves everything device-local.
  void system_memory_fallback() {
    const model::SynthSpec spec = tiny_spec(Arch::Qwen2, Type::Q4_K, false, true);
    auto m = synth_model(spec, "sysmem.gguf");
    VKT_OK(m);
    vulkan::EvaluatorOptions opt{.n_ctx = 32, .device = vkt::device_override(), .validation = true, .n_batch = 4};
    auto local = vulkan::create_evaluator(**m, opt);
    VKT_OK(local);
    // Only integrated GPUs and CPU implementations fall back (DeviceInfo::system_memory_fallback); a discrete
    // GPU keeps the error (the H200 run of 2026-11-30: "allocating ... failed: VK_ERROR_OUT_OF_DEVICE_MEMORY").
    auto ld = vulkan::device_for_tests(**local);
    VKT_OK(ld);
    if (!(*ld)->info().system_memory_fallback()) QSKIP("a discrete GPU does not put weights in system memory");
    opt.device_local_limit_bytes = 64 << 10;
    auto spilled = vulkan::create_evaluator(**m, opt);
    VKT_OK(spilled);
    auto a = vulkan::weight_allocations(**local), b = vulkan::weight_allocations(**spilled);
    VKT_OK(a);
    VKT_OK(b);
    QCOMPARE(a->in_system_memory, 0u);
    QVERIFY2(b->in_system_memory > 0 && b->in_system_memory < b->count,
             fmt::format("{} of {} weight allocations in system memory", b->in_system_memory, b->count).c_str());
    const uint32_t V = (*m)->hparams().n_vocab;
    std::vector<float> la(V), lb(V);
    std::vector<tokenizer::Token> tokens = {1, 17, 200, 3, 99, 42};
    for (int step = 0; step < 4; ++step) {
      VKT_OK((*local)->eval(tokens, la));
      VKT_OK((*spilled)->eval(tokens, lb));
      QVERIFY2(la == lb, fmt::format("step {}: logits differ (nmse {:.3g})", step, nmse(lb, la)).c_str());
      tokens = {tokenizer::Token(std::max_element(la.begin(), la.end()) - la.begin())};
    }
  }

  // A discrete GPU without resizable BAR: the CPU cannot map its device-local memory, and a write there goes
  // through staging, a submission of its own with a wait. The decode step's inputs (token id, position) and
  // a prompt batch's (ids, positions) are written to host memory and copied by the recording itself
  // (Recorder::begin's copies), so a decode token is one submission, not three, and a batch costs no more
  // submissions than with mapped memory; the logits are the same bit for bit.
  void unmapped_device_memory() {
    const model::SynthSpec spec = tiny_spec(Arch::Qwen2, Type::Q4_K, false, true);
    auto m = synth_model(spec, "unmapped.gguf");
    VKT_OK(m);
    vulkan::EvaluatorOptions opt{.n_ctx = 32, .device = vkt::device_override(), .validation = true, .n_batch = 4};
    auto mapped = vulkan::create_evaluator(**m, opt);
    VKT_OK(mapped);
    opt.unmapped_device_memory = true;
    auto unmapped = vulkan::create_evaluator(**m, opt);
    VKT_OK(unmapped);
    auto dm = vulkan::device_for_tests(**mapped), du = vulkan::device_for_tests(**unmapped);
    VKT_OK(dm);
    VKT_OK(du);
    QVERIFY((*du)->unmapped_device_memory());  // (the other too under PENSER_VK_TEST_UNMAPPED=1: the 16-lane run)
    // The load's uploads went through reused staging buffers (Device::lend_staging: one per write under way,
    // at most 2; grown past their 4 MiB: never, for this model), released once loaded.
    const uint64_t staged = (*du)->staging_allocations();
    QVERIFY2(staged >= 1 && staged <= uint64_t(Device::kStagingBuffers), fmt::format("{} staging buffers", staged).c_str());
    const uint32_t V = (*m)->hparams().n_vocab;
    std::vector<float> la(V), lb(V);
    std::vector<tokenizer::Token> tokens = {1, 17, 200, 3, 99, 42};  // a batch of 4, then one of 2
    for (int step = 0; step < 5; ++step) {
      const uint64_t sm = (*dm)->submissions(), su = (*du)->submissions();
      VKT_OK((*mapped)->eval(tokens, la));
      VKT_OK((*unmapped)->eval(tokens, lb));
      const uint64_t nm = (*dm)->submissions() - sm, nu = (*du)->submissions() - su;
      QVERIFY2(la == lb, fmt::format("step {}: logits differ (nmse {:.3g})", step, nmse(lb, la)).c_str());
      QVERIFY2(nu == nm, fmt::format("step {}: {} submissions with unmapped memory, {} mapped", step, nu, nm).c_str());
      if (step > 0) QVERIFY2(nu == 1, fmt::format("decode step {}: {} submissions", step, nu).c_str());
      QCOMPARE((*du)->staging_allocations(), staged);  // none since the load
      tokens = {tokenizer::Token(std::max_element(la.begin(), la.end()) - la.begin())};
    }
  }

  // Every pipeline a prompt needs is asked for at load (BatchPath::prepare: they compile in the background
  // while the user types), so the first prompt, of any batch length, and the decode after it make none.
  void prompt_pipelines_made_at_load() {
    for (Type t : {Type::Q4_K, Type::Q8_0}) {
      auto m = synth_model(tiny_spec(Arch::Qwen2, t, false, t == Type::Q4_K), "prepared.gguf");  // Q4_K_M's mix
      VKT_OK(m);
      auto ev = vulkan::create_evaluator(**m, {.n_ctx = 32, .device = vkt::device_override(), .validation = true,
                                               .n_batch = 4});
      VKT_OK(ev);
      auto before = vulkan::pipeline_count(**ev);
      VKT_OK(before);
      std::vector<float> logits((*m)->hparams().n_vocab);
      VKT_OK((*ev)->eval(std::vector<tokenizer::Token>{1, 2, 3, 4, 5, 6}, logits));  // a batch of 4, one of 2
      VKT_OK((*ev)->eval(std::vector<tokenizer::Token>{7}, logits));
      auto after = vulkan::pipeline_count(**ev);
      VKT_OK(after);
      QVERIFY2(*after == *before, fmt::format("{}: {} pipelines at load, {} after a prompt", quant::type_name(t),
                                              *before, *after).c_str());
    }
  }

  // The weights are written on a thread of their own while the decode step is recorded (its pipelines
  // compiling meanwhile). Through staging every write is a submission: a device lost in the middle of them
  // fails the load with the loss named, from either thread, and nothing hangs or crashes; the next load on a
  // sound device works.
  void device_lost_while_the_weights_upload() {
    auto m = synth_model(tiny_spec(Arch::Qwen2, Type::Q4_K, false, true), "lost_upload.gguf");
    VKT_OK(m);
    vulkan::EvaluatorOptions opt{.n_ctx = 32, .device = vkt::device_override(), .validation = true, .n_batch = 4,
                                 .unmapped_device_memory = true};
    auto sound = vulkan::create_evaluator(**m, opt);
    VKT_OK(sound);
    auto dev = vulkan::device_for_tests(**sound);
    VKT_OK(dev);
    const uint64_t load = (*dev)->submissions();  // the load's: poisoning, vectors, then the matrices' writes
    QVERIFY2(load > 8, fmt::format("{} submissions", load).c_str());
    for (uint64_t after : {uint64_t(0), load / 2, load - 2, load - 1}) {
      qputenv("PENSER_VK_TEST_LOSE_AFTER", QByteArray::number(qulonglong(after)));
      auto ev = vulkan::create_evaluator(**m, opt);
      qunsetenv("PENSER_VK_TEST_LOSE_AFTER");
      QVERIFY2(!ev, fmt::format("lost after {} of the load's {} submissions: loaded", after, load).c_str());
      const std::string msg = ev.error().message;
      qDebug("lost after %llu of %llu: %s", qulonglong(after), qulonglong(load), msg.c_str());
      QVERIFY2(msg.find("VK_ERROR_DEVICE_LOST") != std::string::npos, msg.c_str());
    }
    std::vector<float> logits((*m)->hparams().n_vocab);
    VKT_OK((*sound)->eval(std::vector<tokenizer::Token>{1, 2, 3}, logits));
  }

  // EvaluatorOptions::progress: the fractions of the weights written, from 0 to exactly 1, never
  // decreasing, one call at a time; false at the first, a middle and the last call stops the load with
  // kLoadCancelled and no call comes after it; the stopped load destroys what it made (an object left at
  // vkDestroyDevice is a validation message, which fails the suite). Mapped and through staging (a discrete
  // GPU without resizable BAR).
  void load_progress_and_cancel() {
    auto m = synth_model(tiny_spec(Arch::Qwen2, Type::Q4_K, false, true), "progress.gguf");
    VKT_OK(m);
    const std::vector<tokenizer::Token> prompt{1, 2, 3};
    std::vector<float> expected((*m)->hparams().n_vocab), logits(expected.size());
    for (bool unmapped : {false, true}) {
      vulkan::EvaluatorOptions opt{.n_ctx = 32, .device = vkt::device_override(), .validation = true, .n_batch = 4,
                                   .unmapped_device_memory = unmapped};
      std::vector<double> seen;
      std::atomic<int> inside{0};
      bool overlapped = false;
      int stop_at = -1;  // the call that says stop; -1: none
      opt.progress = [&](double f) {
        overlapped |= inside.fetch_add(1) != 0;
        seen.push_back(f);
        const bool go = int(seen.size()) - 1 != stop_at;
        inside.fetch_sub(1);
        return go;
      };
      auto sound = vulkan::create_evaluator(**m, opt);
      VKT_OK(sound);
      VKT_OK((*sound)->eval(prompt, expected));
      const std::vector<double> whole = seen;
      QVERIFY(!overlapped);
      // Every matrix is a piece at least (merged Q|K|V and gate|up, Wo, down per layer; the embedding).
      const size_t n_layer = (*m)->hparams().n_layer;
      QVERIFY2(whole.size() >= 1 + 3 * n_layer, fmt::format("{} calls", whole.size()).c_str());
      QCOMPARE(whole.front(), 0.0);
      QCOMPARE(whole.back(), 1.0);
      QVERIFY(std::is_sorted(whole.begin(), whole.end()));
      auto dev = vulkan::device_for_tests(**sound);
      VKT_OK(dev);
      const uint64_t held_by_one = (*dev)->device_local_allocated();
      for (int at : {0, int(whole.size()) / 2, int(whole.size()) - 1}) {
        seen.clear();
        stop_at = at;
        auto ev = vulkan::create_evaluator(**m, opt);
        QVERIFY2(!ev, fmt::format("stopped at call {} of {}: loaded", at, whole.size()).c_str());
        QCOMPARE(QString::fromStdString(ev.error().message), QString::fromLatin1(vulkan::kLoadCancelled));
        QCOMPARE(int(seen.size()), at + 1);  // nothing heard after the stop
        QVERIFY(!overlapped);
      }
      stop_at = -1;
      seen.clear();
      // A load after them is the same as the first: the same device memory, pieces and logits.
      auto again = vulkan::create_evaluator(**m, opt);
      VKT_OK(again);
      auto dev2 = vulkan::device_for_tests(**again);
      VKT_OK(dev2);
      QCOMPARE((*dev2)->device_local_allocated(), held_by_one);
      QCOMPARE(seen.size(), whole.size());  // the pieces finish in the threads' order: the same count
      QCOMPARE(seen.back(), 1.0);
      VKT_OK((*again)->eval(prompt, logits));
      QCOMPARE(logits, expected);
    }
  }

  // A submission that timed out and still runs when the evaluator goes (Device::settle false; pretended
  // here, lavapipe cannot hang on cue): nothing made on the device is freed under it. Every buffer the
  // evaluator holds (weights, cache, activations, the prompt path's, split-K's partials) stays allocated;
  // a member added outside VulkanObjects would be freed and show here.
  void a_hung_device_leaks_everything() {
    auto m = synth_model(tiny_spec(Arch::Qwen2, Type::Q4_K, false, true), "hung.gguf");
    VKT_OK(m);
    auto ev = vulkan::create_evaluator(
        **m, {.n_ctx = 32, .device = vkt::device_override(), .validation = true, .n_batch = 4, .decode_split = 2});
    VKT_OK(ev);
    std::vector<float> logits((*m)->hparams().n_vocab);
    const std::vector<tokenizer::Token> prompt{1, 2, 3, 4, 5, 6, 7};
    VKT_OK((*ev)->eval(prompt, logits));
    const tokenizer::Token t = 9;
    VKT_OK((*ev)->eval(std::span(&t, 1), logits));
    auto d = vulkan::device_for_tests(**ev);
    VKT_OK(d);
    Device* device = *d;
    const uint64_t held = device->device_local_allocated();
    QVERIFY(held > (*m)->weight_bytes() / 2);
    device->pretend_hung_for_tests();
    QVERIFY(device->lost() && device->hung());
    ev->reset();
    QCOMPARE(device->device_local_allocated(), held);  // the device and its counts live on, leaked
  }

  // The fit check before loading (estimate_device_bytes) must not under-count what loading and running then
  // allocate, or a model that "fits" fails half-way through its upload or at its first long prompt; and it
  // should not over-count much either, or a model that fits is refused. Every architecture, quant mixes,
  // prompt batches and token-by-token, tied and untied heads, a split-K context.
  void device_memory_within_the_estimate_data() {
    QTest::addColumn<int>("arch");
    QTest::addColumn<int>("type");
    QTest::addColumn<bool>("extra");
    QTest::addColumn<bool>("mix");
    QTest::addColumn<int>("n_batch");
    QTest::addColumn<int>("n_ctx");
    QTest::newRow("qwen2 Q4_K_M batch 8") << int(Arch::Qwen2) << int(Type::Q4_K) << false << true << 8 << 64;
    QTest::newRow("qwen2 tied Q8_0 token by token") << int(Arch::Qwen2) << int(Type::Q8_0) << true << false << 1 << 64;
    QTest::newRow("llama rope_freqs Q4_K_M batch 16") << int(Arch::Llama) << int(Type::Q4_K) << true << true << 16 << 96;
    QTest::newRow("qwen3 F16 batch 4") << int(Arch::Qwen3) << int(Type::F16) << false << false << 4 << 48;
    QTest::newRow("qwen2 Q6_K ctx 512") << int(Arch::Qwen2) << int(Type::Q6_K) << false << false << 8 << 512;
  }
  void device_memory_within_the_estimate() {
    QFETCH(int, arch);
    QFETCH(int, type);
    QFETCH(bool, extra);
    QFETCH(bool, mix);
    QFETCH(int, n_batch);
    QFETCH(int, n_ctx);
    const model::SynthSpec spec = tiny_spec(Arch(arch), Type(type), extra, mix);
    auto m = synth_model(spec, QStringLiteral("mem-%1.gguf").arg(QTest::currentDataTag()).replace(' ', '_'));
    VKT_OK(m);
    vulkan::EvaluatorOptions opt{.n_ctx = uint32_t(n_ctx), .device = vkt::device_override(), .validation = true,
                                 .n_batch = uint32_t(n_batch)};
    auto ev = vulkan::create_evaluator(**m, opt);
    VKT_OK(ev);
    // A prompt over several batches, then decode steps past the split-K threshold where the context allows.
    const uint32_t V = (*m)->hparams().n_vocab;
    std::vector<float> logits(V);
    std::vector<tokenizer::Token> prompt(std::min(n_ctx - 8, 70));
    for (size_t i = 0; i < prompt.size(); ++i) prompt[i] = tokenizer::Token((i * 37 + 5) % V);
    VKT_OK((*ev)->eval(prompt, logits));
    for (int step = 0; step < 4; ++step) {
      const tokenizer::Token t = tokenizer::Token(std::max_element(logits.begin(), logits.end()) - logits.begin());
      VKT_OK((*ev)->eval(std::span(&t, 1), logits));
    }
    auto mem = vulkan::memory_in_use(**ev);
    VKT_OK(mem);
    const std::string figures = fmt::format("allocated {} bytes, estimated {} (weights {})", mem->allocated,
                                            mem->estimate, (*m)->weight_bytes());
    qInfo("%s", figures.c_str());
    QVERIFY2(mem->allocated > (*m)->weight_bytes() / 2, figures.c_str());  // the count sees the weights
    QVERIFY2(mem->allocated <= mem->estimate, figures.c_str());
    QVERIFY2(mem->estimate - mem->allocated <= mem->estimate / 10 + (64 << 10), figures.c_str());
    // The driver's figures where it has VK_EXT_memory_budget (lavapipe does not): at least the buffers, and a
    // tiny model is never over the budget.
    QCOMPARE(mem->driver_usage.has_value(), mem->driver_budget.has_value());
    if (mem->driver_usage) QVERIFY2(*mem->driver_usage >= mem->allocated, figures.c_str());
    QVERIFY(!mem->over_budget());
    // The decision itself, on figures this device cannot give.
    vulkan::MemoryInUse over = *mem;
    over.driver_usage = 6ull << 30;
    over.driver_budget = 5ull << 30;
    QVERIFY(over.over_budget());
    over.driver_budget = 7ull << 30;
    QVERIFY(!over.over_budget());
  }
};

QTEST_GUILESS_MAIN(TestVulkanEvaluator)
#include "test_vulkan_evaluator.moc"
