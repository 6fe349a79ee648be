// The Vulkan evaluator's prompt path: a prompt evaluated in batches (mul_mm + attn_prefill, one submission
// per batch) against the same prompt token by token on the GPU (the decode step) and against the CPU
// evaluator; truncation inside a batch; cancellation between batches.
#include <QTemporaryDir>
#include "tests/test_support.h"
#include <QtTest>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "inference/cpu/cpu.h"
#include "inference/model/model.h"
#include "inference/model/synth.h"
#include "inference/vulkan/evaluator.h"
#include "tests/vulkan/vk_fixture.h"

using namespace vkt;
using penser::model::Arch;
using penser::quant::Type;
using Tokens = std::vector<tokenizer::Token>;

class TestVulkanBatch : public QObject {
  Q_OBJECT
  QTemporaryDir dir;

  std::unique_ptr<model::Model> make_model(Arch arch, Type type, bool extra, bool mix = false) {
    model::SynthSpec spec;
    spec.arch = arch;
    spec.type = type;
    spec.k_m = mix;
    spec.n_embd = 256;
    spec.n_ff = 512;
    spec.n_head = 4;
    spec.n_head_kv = 2;
    spec.n_layer = 2;
    spec.n_vocab = 300;
    spec.seed = 21 + uint64_t(type);
    if (arch == Arch::Llama) spec.rope_freqs = extra;
    else spec.tie_embeddings = extra;
    const std::string path =
        dir.filePath(QString("b%1_%2_%3_%4.gguf").arg(int(arch)).arg(int(type)).arg(extra).arg(mix)).toStdString();
    if (Status s = model::write_synth_model(spec, path); !s) qFatal("%s", s.error().message.c_str());
    auto m = model::Model::load(path);
    if (!m) qFatal("%s", m.error().message.c_str());
    return std::move(*m);
  }

  static std::unique_ptr<model::Evaluator> gpu_evaluator(const model::Model& m, uint32_t n_batch) {
    auto e = vulkan::create_evaluator(m, {.n_ctx = 64, .device = device_override(), .validation = true, .n_batch = n_batch});
    if (!e) qFatal("%s", e.error().message.c_str());
    return std::move(*e);
  }

 private slots:
  // A validation message from any instance (the evaluators make their own) or a write past a buffer's end
  // fails the test function that caused it.
  void cleanup() { QVERIFY2(vkt::no_new_faults(), "the validation layer or a buffer's guard saw a fault"); }

  void initTestCase() {
    if (Status s = load(); !s) PENSER_SKIP_UNLESS_CI(s.error().message.c_str());
    QVERIFY(dir.isValid());
  }

  void batch_matches_token_by_token_data() {
    QTest::addColumn<int>("arch");
    QTest::addColumn<int>("type");
    QTest::addColumn<bool>("extra");
    QTest::addColumn<double>("cpu_tolerance");  // the CPU quantizes activations for quantized weights
    QTest::newRow("qwen2 F32") << int(Arch::Qwen2) << int(Type::F32) << false << 1e-9;
    QTest::newRow("qwen3 Q4_K (Q/K norm)") << int(Arch::Qwen3) << int(Type::Q4_K) << false << 1e-3;
    QTest::newRow("llama Q8_0 rope_freqs") << int(Arch::Llama) << int(Type::Q8_0) << true << 1e-3;
  }
  void batch_matches_token_by_token() {
    QFETCH(int, arch);
    QFETCH(int, type);
    QFETCH(bool, extra);
    QFETCH(double, cpu_tolerance);
    auto m = make_model(Arch(arch), Type(type), extra);
    const uint32_t V = m->hparams().n_vocab;
    // 11 tokens: batches of 4, 4 and 3 (profiled: which kernels the prompt's products ran, below).
    auto made = vulkan::create_evaluator(*m, {.n_ctx = 64, .device = device_override(), .validation = true,
                                              .profile = true, .n_batch = 4});
    VKT_OK(made);
    auto batched = std::move(*made);
    auto stepped = gpu_evaluator(*m, 1);  // the decode step, once per token
    auto cpu = cpu::create_evaluator(*m, {.n_ctx = 64, .n_threads = 1, .n_batch = 8});
    VKT_OK(cpu);
    const Tokens prompt = {1, 17, 200, 3, 99, 42, 7, 250, 0, 13, 64};
    std::vector<float> lb(V), ls(V), lc(V);
    VKT_OK(batched->eval(prompt, lb));
    VKT_OK(stepped->eval(prompt, ls));
    VKT_OK((*cpu)->eval(prompt, lc));
    QCOMPARE(batched->n_past(), uint32_t(prompt.size()));
    QCOMPARE(batched->tokens(), prompt);
    // Same arithmetic in f32, summed in another order: the bound is f32 rounding noise. The NVIDIA H200
    // driver (which may contract to FMA) gave 1.2e-9 for qwen2 F32, so 1e-9 was too tight for real GPUs.
    // Where the prompt's products ran on cooperative matrices (the default where a GPU has them: x and the
    // weights in fp16 there, the decode step in f32), the bound is fp16 rounding: the H200 gave 8.0e-7
    // (qwen3 Q4_K) and 1.7e-6 (llama Q8_0), against 1e-3 for the CPU's quantized activations.
    auto profile = vulkan::take_prompt_profile(*batched);
    VKT_OK(profile);
    const bool coopmat = std::any_of(profile->dispatches.begin(), profile->dispatches.end(),
                                     [](const auto& d) { return d.shader.starts_with("mul_mm_cm_"); });
    if (coopmat) qInfo("the prompt's products ran on cooperative matrices (fp16 operands)");
    const double kReorder = coopmat ? 1e-5 : 1e-8;
    const double e_step = nmse(lb, ls), e_cpu = nmse(lb, lc);
    QVERIFY2(e_step < kReorder, fmt::format("batched vs token by token: nmse {:.3g}", e_step).c_str());
    QVERIFY2(e_cpu < cpu_tolerance, fmt::format("batched vs cpu: nmse {:.3g}", e_cpu).c_str());
    // Decoding goes on from the batched cache exactly as from the stepped one.
    for (tokenizer::Token t : {5, 77, 123}) {
      VKT_OK(batched->eval(Tokens{t}, lb));
      VKT_OK(stepped->eval(Tokens{t}, ls));
      const double e = nmse(lb, ls);
      QVERIFY2(e < kReorder, fmt::format("decode after a batched prompt: nmse {:.3g}", e).c_str());
    }
  }

  // The prompt path with the decode step's merges (EvaluatorOptions::merge) and without: one product over
  // Wq|Wk|Wv (Wq|Wk in the Q4_K_M mix's layer 1, whose attn_v is Q6_K) writing [tokens, q|k|v] rows that
  // the batched rope_kv and the attention read with a row stride, gate|up as one product with SwiGLU and
  // Wdown over its strided halves. An 11-token prompt in batches of 4, 4, 3: each merge on its own and all
  // of them give the unmerged logits (f32 sums in the same order per output: bit-identical on lavapipe) and
  // the CPU's, greedy decoding goes on alike, and the merged recording has fewer dispatches per layer (all
  // merges: fewer barriers too).
  void merged_prompt_matches_unmerged_data() {
    QTest::addColumn<int>("arch");
    QTest::addColumn<int>("type");
    QTest::addColumn<bool>("extra");  // llama: rope_freqs
    QTest::addColumn<bool>("mix");    // llama.cpp's Q4_K_M mix
    QTest::addColumn<double>("cpu_tolerance");
    // F32: the same arithmetic as the CPU's in another order (11 tokens through 2 layers: 4e-9 to 9e-9).
    QTest::newRow("qwen2 F32 (biases)") << int(Arch::Qwen2) << int(Type::F32) << false << false << 1e-7;
    QTest::newRow("qwen3 F32 (Q/K norm)") << int(Arch::Qwen3) << int(Type::F32) << false << false << 1e-7;
    QTest::newRow("llama F32 rope_freqs") << int(Arch::Llama) << int(Type::F32) << true << false << 1e-7;
    QTest::newRow("qwen2 Q4_K_M mix (V apart)") << int(Arch::Qwen2) << int(Type::Q4_K) << false << true << 1e-3;
    QTest::newRow("qwen3 Q4_K_M mix (V apart)") << int(Arch::Qwen3) << int(Type::Q4_K) << false << true << 1e-3;
  }
  void merged_prompt_matches_unmerged() {
    QFETCH(int, arch);
    QFETCH(int, type);
    QFETCH(bool, extra);
    QFETCH(bool, mix);
    QFETCH(double, cpu_tolerance);
    auto m = make_model(Arch(arch), Type(type), extra, mix);
    const uint32_t V = m->hparams().n_vocab, L = m->hparams().n_layer;
    using Merges = vulkan::EvaluatorOptions::Merges;
    auto make = [&](Merges merge) {
      auto e = vulkan::create_evaluator(*m, {.n_ctx = 64, .device = device_override(), .validation = true,
                                             .n_batch = 4, .merge = merge});
      if (!e) qFatal("%s", e.error().message.c_str());
      return std::move(*e);
    };
    auto cpu = cpu::create_evaluator(*m, {.n_ctx = 64, .n_threads = 1, .n_batch = 8});
    VKT_OK(cpu);
    const Tokens prompt = {1, 17, 200, 3, 99, 42, 7, 250, 0, 13, 64};
    std::vector<float> lc(V), lu(V);
    VKT_OK((*cpu)->eval(prompt, lc));
    auto unmerged = make({false, false, false});
    VKT_OK(unmerged->eval(prompt, lu));
    const double e_cpu = nmse(lu, lc);
    QVERIFY2(e_cpu < cpu_tolerance, fmt::format("unmerged vs cpu: nmse {:.3g}", e_cpu).c_str());
    auto counts_u = vulkan::prompt_counts(*unmerged);
    VKT_OK(counts_u);
    // One submission per layer on CPU implementations (lavapipe), one per batch on GPUs (the H200 run of
    // 2026-11-29 failed here when this expected L everywhere): the counts compare submission by submission.
    auto alloc = vulkan::weight_allocations(*unmerged);
    VKT_OK(alloc);
    QCOMPARE(counts_u->size(), alloc->cpu_implementation ? size_t(L) : size_t(1));
    // Greedy tokens after the prompt, fed back (4 steps); the unmerged evaluator's are the reference.
    auto greedy = [&](model::Evaluator& e, std::vector<float> l) {
      std::vector<int> picks;
      for (int i = 0; i < 4; ++i) {
        picks.push_back(int(std::max_element(l.begin(), l.end()) - l.begin()));
        if (Status s = e.eval(Tokens{picks.back()}, l); !s) qFatal("%s", s.error().message.c_str());
      }
      return picks;
    };
    const std::vector<int> want_tokens = greedy(*unmerged, lu);
    const struct {
      const char* name;
      Merges merge;
    } configs[] = {{"all", {true, true, true}}, {"qkv", {true, false, false}}, {"rope_kv", {false, false, true}},
                   {"gate_up", {false, true, false}}};
    for (const auto& c : configs) {
      auto e = make(c.merge);
      std::vector<float> l(V);
      VKT_OK(e->eval(prompt, l));
      const double eu = nmse(l, lu), ec = nmse(l, lc);
      qInfo("%s: vs unmerged nmse %.3g, vs cpu %.3g", c.name, eu, ec);
      QVERIFY2(eu < 1e-8, fmt::format("{}: vs unmerged nmse {:.3g}", c.name, eu).c_str());
      QVERIFY2(ec < cpu_tolerance, fmt::format("{}: vs cpu nmse {:.3g}", c.name, ec).c_str());
      auto counts = vulkan::prompt_counts(*e);
      VKT_OK(counts);
      QCOMPARE(counts->size(), counts_u->size());
      // The last batch (3 tokens) was recorded last; layer 0 also looks up the embeddings, the last layer
      // makes the logits: compare layer by layer (a GPU's one submission: all layers at once).
      for (uint32_t i = 0; i < counts->size(); ++i) {
        const auto& a = (*counts)[i];
        const auto& b = (*counts_u)[i];
        qInfo("%s, submission %u: %u dispatches, %u barriers (unmerged %u, %u)", c.name, i, a.dispatches, a.barriers,
              b.dispatches, b.barriers);
        QVERIFY2(a.dispatches < b.dispatches, fmt::format("{}: layer {}", c.name, i).c_str());
        // All merges: one barrier stage fewer per layer at least (where V is a product of its own too: it
        // writes rows apart from Q|K's, so the two products run side by side).
        if (c.merge.qkv && c.merge.gate_up && c.merge.rope_kv)
          QVERIFY2(a.barriers < b.barriers, fmt::format("layer {}: {} barriers", i, a.barriers).c_str());
      }
      QCOMPARE(greedy(*e, l), want_tokens);
    }
  }

  // Split-K decode attention in the decode step (forced on: by default only GPUs split) gives the logits of
  // the one-pass step, over a context long enough to fill several ranges.
  void split_decode_matches_one_pass() {
    auto m = make_model(Arch::Qwen2, Type::F32, false);
    const uint32_t V = m->hparams().n_vocab;
    auto split = vulkan::create_evaluator(*m, {.n_ctx = 64, .device = device_override(), .validation = true, .n_batch = 1,
                                              .decode_split = 5});
    VKT_OK(split);
    auto plain = gpu_evaluator(*m, 1);
    std::vector<float> ls(V), lp(V);
    for (int i = 0; i < 30; ++i) {
      const Tokens t{(i * 53 + 7) % int(V)};
      VKT_OK((*split)->eval(t, ls));
      VKT_OK(plain->eval(t, lp));
    }
    const double err = nmse(ls, lp);  // f32 sums in another order, through two layers
    QVERIFY2(err < 1e-9, fmt::format("nmse {:.3g}", err).c_str());
  }

  // Truncating inside what was one batch and evaluating other tokens gives what a fresh evaluator gives.
  void truncate_inside_a_batch() {
    auto m = make_model(Arch::Qwen2, Type::F16, true);
    const uint32_t V = m->hparams().n_vocab;
    auto e = gpu_evaluator(*m, 16);
    auto fresh = gpu_evaluator(*m, 16);
    std::vector<float> la(V), lb(V);
    VKT_OK(e->eval(Tokens{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, la));
    e->truncate(6);
    QCOMPARE(e->n_past(), 6u);
    VKT_OK(e->eval(Tokens{200, 201, 202}, la));
    VKT_OK(fresh->eval(Tokens{1, 2, 3, 4, 5, 6, 200, 201, 202}, lb));
    QCOMPARE(e->tokens(), fresh->tokens());
    const double err = nmse(la, lb);
    QVERIFY2(err < 1e-12, fmt::format("nmse {:.3g}", err).c_str());
    // Errors leave the state unchanged: a bad id anywhere in the batch, a batch larger than the room left.
    QVERIFY(!e->eval(Tokens{5, int(V), 6}, la));
    QCOMPARE(e->n_past(), 9u);
    QVERIFY(!e->eval(Tokens(60, 1), la));
    QCOMPARE(e->n_past(), 9u);
  }

  // The cancel flag is read before every batch and between its layers: set beforehand, nothing is
  // evaluated; raised while a long prompt runs, the evaluation stops with whole batches kept (a batch cut
  // between layers is dropped), and finishing the prompt afterwards gives the uninterrupted result.
  void cancel_between_batches() {
    auto m = make_model(Arch::Qwen2, Type::F32, false);
    const uint32_t V = m->hparams().n_vocab;
    auto e = gpu_evaluator(*m, 2);
    std::atomic<bool> cancel{true};
    e->set_cancel_flag(&cancel);
    Tokens prompt;
    for (int i = 0; i < 60; ++i) prompt.push_back((i * 37 + 11) % int(V));
    std::vector<float> l(V), want(V);
    auto r = e->eval(prompt, l);
    QVERIFY(!r);
    QCOMPARE(QString::fromStdString(r.error().message), QString("cancelled"));
    QCOMPARE(e->n_past(), 0u);

    cancel = false;
    // The reference, uninterrupted; its duration sets when the flag is raised below (half-way).
    const auto t0 = std::chrono::steady_clock::now();
    VKT_OK(e->eval(prompt, want));
    const auto half = (std::chrono::steady_clock::now() - t0) / 2;
    e->truncate(0);

    Status result;
    std::thread worker([&] { result = e->eval(prompt, l); });
    std::this_thread::sleep_for(half);
    cancel = true;
    worker.join();
    const uint32_t done = e->n_past();
    if (result) {
      QCOMPARE(done, uint32_t(prompt.size()));  // it finished before the flag was seen
      qInfo("the prompt finished before the flag was raised");
    } else {
      qInfo("cancelled after %u of %zu tokens", done, prompt.size());
      QCOMPARE(QString::fromStdString(result.error().message), QString("cancelled"));
      QVERIFY2(done % 2 == 0 && done < prompt.size(), fmt::format("stopped at {}", done).c_str());
      QCOMPARE(e->tokens(), Tokens(prompt.begin(), prompt.begin() + done));
      cancel = false;
      VKT_OK(e->eval(std::span(prompt).subspan(done), l));
    }
    const double err = nmse(l, want);
    QVERIFY2(err < 1e-12, fmt::format("nmse {:.3g}", err).c_str());
  }

  void memory_estimate_counts_the_batch() {
    auto m = make_model(Arch::Qwen2, Type::F32, false);
    const uint64_t one = vulkan::estimate_device_bytes(*m, 64, 1), big = vulkan::estimate_device_bytes(*m, 64, 256);
    const model::HParams& hp = m->hparams();
    // At least the batch's residual stream, normed copy, Q, K, V, attention output and two FFN rows per token.
    const uint64_t floor = 255ull * 4 * (2 * hp.n_embd + 2 * hp.n_head * hp.head_dim + 2 * hp.n_head_kv * hp.head_dim + 2 * hp.n_ff);
    QVERIFY2(big - one >= floor, fmt::format("{} -> {}", one, big).c_str());
  }
};

QTEST_GUILESS_MAIN(TestVulkanBatch)
#include "test_vulkan_batch.moc"
