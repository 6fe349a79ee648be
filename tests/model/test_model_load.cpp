// Binding a GGUF to a model: hyper-parameters read from the file for each architecture, and clear errors
// (naming the file, the tensor or key, expected and actual) for files that do not describe a usable model.
#include "common.h"

#include <functional>

using namespace penser;
using model::Arch;

namespace {

// Rewrites `src` into `dst`, letting `edit` change the metadata and the tensor list.
struct Rewrite {
  std::function<void(gguf::Writer&)> meta;
  std::function<bool(const gguf::TensorInfo&, std::vector<uint64_t>& shape)> tensor;  // false: drop it
};

QString rewrite(const QString& src, const QString& dst, const Rewrite& r) {
  auto f = gguf::File::open(src.toStdString());
  if (!f) qFatal("%s", f.error().message.c_str());
  gguf::Writer w;
  w.copy_metadata(**f);
  if (r.meta) r.meta(w);
  for (const auto& t : (*f)->tensors()) {
    std::vector<uint64_t> shape = t.shape;
    if (r.tensor && !r.tensor(t, shape)) continue;
    w.add_tensor(t.name, shape, t.type, {t.data, size_t(t.n_bytes)});
  }
  auto st = w.write(dst.toStdString());
  if (!st) qFatal("%s", st.error().message.c_str());
  return dst;
}

}  // namespace

class TestModelLoad : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  QString base_;  // a valid qwen2 model

  QString path(const char* name) const { return dir_.filePath(name); }
  std::string load_error(const QString& p) {
    auto m = model::Model::load(p.toStdString());
    if (m) return "";
    return m.error().message;
  }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    base_ = path("base.gguf");
    auto st = model::write_synth_model(test::tiny_spec(Arch::Qwen2), base_.toStdString());
    QVERIFY2(st.has_value(), st ? "" : st.error().message.c_str());
  }

  void hparams_from_file_data() {
    QTest::addColumn<int>("arch");
    QTest::newRow("qwen2") << int(Arch::Qwen2);
    QTest::newRow("llama") << int(Arch::Llama);
    QTest::newRow("qwen3") << int(Arch::Qwen3);
  }
  void hparams_from_file() {
    QFETCH(int, arch);
    auto spec = test::tiny_spec(Arch(arch));
    spec.n_layer = 3;
    spec.n_ff = 80;
    spec.rms_eps = 1e-5f;
    spec.n_ctx_train = 321;
    auto m = test::make_model(spec, path("hp.gguf"));
    const auto& hp = m->hparams();
    QCOMPARE(int(hp.arch), arch);
    QCOMPARE(hp.n_embd, 64u);
    QCOMPARE(hp.n_layer, 3u);
    QCOMPARE(hp.n_head, 4u);
    QCOMPARE(hp.n_head_kv, 2u);
    QCOMPARE(hp.head_dim, spec.head_dim ? spec.head_dim : 16u);
    QCOMPARE(hp.n_ff, 80u);
    QCOMPARE(hp.n_ctx_train, 321u);
    QCOMPARE(hp.rms_eps, 1e-5f);
    QCOMPARE(hp.rope_freq_base, spec.rope_freq_base);
    QCOMPARE(hp.n_vocab, 265u);
    QCOMPARE(hp.rope_neox, Arch(arch) != Arch::Llama);
    QCOMPARE(hp.has_qkv_bias, Arch(arch) == Arch::Qwen2);
    QCOMPARE(hp.has_qk_norm, Arch(arch) == Arch::Qwen3);
    const auto& w = m->weights();
    QCOMPARE(bool(w.rope_freqs), spec.rope_freqs);
    QCOMPARE(w.layers.size(), size_t(3));
    QCOMPARE(bool(w.layers[0].bq), Arch(arch) == Arch::Qwen2);
    QCOMPARE(bool(w.layers[2].q_norm), Arch(arch) == Arch::Qwen3);
    // Tied embeddings: the output head is token_embd.
    QCOMPARE(w.output.data == w.token_embd.data, spec.tie_embeddings);
    QCOMPARE(m->vocab().n_tokens(), 265);
    QCOMPARE(m->kv_cache_bytes(100), uint64_t(2) * 2 * 3 * 2 * hp.head_dim * 100);
    QVERIFY(m->n_params() > 0);
    QVERIFY(m->quant_summary().find("F32") != std::string::npos);
    QCOMPARE(m->name(), std::string("penser-synth"));
  }

  void missing_tensor() {
    auto p = rewrite(base_, path("missing.gguf"),
                     {{}, [](const gguf::TensorInfo& t, auto&) { return t.name != "blk.1.ffn_up.weight"; }});
    auto e = load_error(p);
    QVERIFY2(e.find("missing.gguf") != std::string::npos, e.c_str());
    QVERIFY2(e.find("missing tensor 'blk.1.ffn_up.weight'") != std::string::npos, e.c_str());
    QVERIFY2(e.find("[64, 96]") != std::string::npos, e.c_str());
  }
  void missing_bias_for_qwen2() {
    auto p = rewrite(base_, path("nobias.gguf"),
                     {{}, [](const gguf::TensorInfo& t, auto&) { return t.name != "blk.0.attn_k.bias"; }});
    auto e = load_error(p);
    QVERIFY2(e.find("'blk.0.attn_k.bias'") != std::string::npos, e.c_str());
  }
  void wrong_shape() {
    // Same bytes, transposed shape: the loader must notice.
    auto p = rewrite(base_, path("shape.gguf"), {{}, [](const gguf::TensorInfo& t, std::vector<uint64_t>& s) {
                       if (t.name == "blk.0.ffn_gate.weight") std::swap(s[0], s[1]);
                       return true;
                     }});
    auto e = load_error(p);
    QVERIFY2(e.find("shape.gguf") != std::string::npos, e.c_str());
    QVERIFY2(e.find("'blk.0.ffn_gate.weight' has shape [96, 64], expected [64, 96]") != std::string::npos,
             e.c_str());
  }
  void unsupported_arch() {
    auto p = rewrite(base_, path("arch.gguf"), {[](gguf::Writer& w) {
                       w.set_string("general.architecture", "gpt2");
                     }, {}});
    auto e = load_error(p);
    QVERIFY2(e.find("'gpt2' is not supported") != std::string::npos, e.c_str());
    QVERIFY2(e.find("qwen2, llama and qwen3") != std::string::npos, e.c_str());
  }
  void missing_key() {
    auto f = gguf::File::open(base_.toStdString());
    QVERIFY(f.has_value());
    gguf::Writer w;
    for (const auto& [k, v] : (*f)->metadata())
      if (k != "qwen2.block_count") w.set(k, v);
    for (const auto& t : (*f)->tensors()) w.add_tensor(t.name, t.shape, t.type, {t.data, size_t(t.n_bytes)});
    QVERIFY(w.write(path("key.gguf").toStdString()).has_value());
    auto e = load_error(path("key.gguf"));
    QVERIFY2(e.find("key.gguf") != std::string::npos, e.c_str());
    QVERIFY2(e.find("missing metadata key 'qwen2.block_count'") != std::string::npos, e.c_str());
  }
  void inconsistent_heads() {
    auto p = rewrite(base_, path("heads.gguf"), {[](gguf::Writer& w) {
                       w.set_uint32("qwen2.attention.head_count_kv", 3);
                     }, {}});
    auto e = load_error(p);
    QVERIFY2(e.find("not a multiple of head_count_kv 3") != std::string::npos, e.c_str());
  }
  void wrong_key_type() {
    auto p = rewrite(base_, path("keytype.gguf"), {[](gguf::Writer& w) {
                       w.set_string("qwen2.embedding_length", "sixty-four");
                     }, {}});
    auto e = load_error(p);
    QVERIFY2(e.find("'qwen2.embedding_length' should be an unsigned integer") != std::string::npos, e.c_str());
  }
  void missing_file() {
    auto e = load_error(path("does-not-exist.gguf"));
    QVERIFY2(e.find("does-not-exist.gguf") != std::string::npos, e.c_str());
  }
  void synth_refuses_bad_shapes() {
    auto spec = test::tiny_spec(Arch::Qwen2);
    spec.type = quant::Type::Q4_K;  // rows of 64 are not a multiple of 256
    auto st = model::write_synth_model(spec, path("bad.gguf").toStdString());
    QVERIFY(!st);
    QVERIFY2(st.error().message.find("block size 256") != std::string::npos, st.error().message.c_str());
    spec = test::tiny_spec(Arch::Qwen2);
    spec.n_head_kv = 3;
    QVERIFY(!model::write_synth_model(spec, path("bad.gguf").toStdString()));
  }
};

QTEST_GUILESS_MAIN(TestModelLoad)
#include "test_model_load.moc"
