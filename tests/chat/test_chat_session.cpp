// Sessions end to end on tiny random-weight models with the real R1 vocabulary, through the real CPU
// evaluator: KV reuse gives the logits of a fresh evaluation, context limits drop old turns or stop with
// context_full, cancel takes effect within one token, the thinking budget closes the thought, EOS stops.
#include "inference/chat/session.h"
#include "inference/cpu/cpu.h"
#include "inference/gguf/gguf.h"
#include "inference/model/model.h"
#include "inference/model/synth.h"
#include "tests/tiny_model.h"

#include <QTemporaryDir>
#include <QtTest>

#include <atomic>
#include <chrono>
#include <cmath>
#include <thread>

using namespace penser;
using chat::Event;
using chat::FinishReason;
using chat::GenerateSettings;
using chat::Message;
using chat::Reply;
using chat::Session;

namespace {

model::SynthSpec tiny_spec(const gguf::File* vocab) { return penser::test_models::tiny_r1_spec(vocab, 11); }

GenerateSettings greedy(int max_tokens) {
  GenerateSettings g;
  g.sampler.temperature = 0;
  g.max_tokens = max_tokens;
  g.reserve_tokens = 16;
  return g;
}

struct Recorder {
  std::vector<Event> events;
  chat::EventCallback callback() {
    return [this](const Event& e) {
      events.push_back(e);
      return true;
    };
  }
  int count(Event::Kind k) const {
    return int(std::count_if(events.begin(), events.end(), [k](const Event& e) { return e.kind == k; }));
  }
};

size_t common_prefix(const std::vector<tokenizer::Token>& a, const std::vector<tokenizer::Token>& b) {
  size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  return n;
}

std::string words(int n, const char* word) {
  std::string s;
  for (int i = 0; i < n; ++i) s += std::string(i ? " " : "") + word + std::to_string(i);
  return s;
}

}  // namespace

class TestChatSession : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  std::unique_ptr<gguf::File> vocab_;
  std::unique_ptr<model::Model> model_;

  std::unique_ptr<model::Model> make_model(const gguf::File* vocab, const QString& name) {
    const std::string path = dir_.filePath(name).toStdString();
    Status st = model::write_synth_model(tiny_spec(vocab), path);
    if (!st) qFatal("write_synth_model: %s", st.error().message.c_str());
    auto m = model::Model::load(path);
    if (!m) qFatal("load: %s", m.error().message.c_str());
    return std::move(*m);
  }

  std::unique_ptr<Session> session(uint32_t n_ctx, const model::Model* m = nullptr, uint32_t n_batch = 32) {
    cpu::Options o;
    o.n_ctx = n_ctx;
    o.n_threads = 2;
    o.n_batch = n_batch;
    const model::Model& model = m ? *m : *model_;
    auto ev = cpu::create_evaluator(model, o);
    if (!ev) qFatal("create_evaluator: %s", ev.error().message.c_str());
    return Session::create(model, std::move(*ev));
  }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    auto f = gguf::File::open(std::string(PENSER_TEST_DATA_DIR) + "/tokenizer/r1-distill-qwen.vocab.gguf");
    QVERIFY2(f, f ? "" : f.error().message.c_str());
    vocab_ = std::move(*f);
    model_ = make_model(vocab_.get(), "tiny.gguf");
  }

  void prompt_is_the_r1_template() {
    auto s = session(512);
    QCOMPARE(s->chat_template().family(), chat::TemplateFamily::R1Distill);
    QVERIFY(s->chat_template().warning().empty());
    auto p = s->build_prompt({{"user", "Hello"}}, 0);
    QVERIFY(p);
    QCOMPARE(QString::fromStdString(p->text), QString::fromUtf8("<｜begin▁of▁sentence｜><｜User｜>Hello<｜Assistant｜><think>\n"));
    const tokenizer::Vocab& v = s->vocab();
    std::vector<tokenizer::Token> expected = {v.bos(), v.find("<｜User｜>"), v.find("Hello"), v.find("<｜Assistant｜>"),
                                              v.find("<think>"), v.find("Ċ")};
    QCOMPARE(p->tokens, expected);
    // The conversation must end with the user.
    QVERIFY(!s->build_prompt({{"user", "a"}, {"assistant", "b"}}, 0));
    QVERIFY(!s->build_prompt({}, 0));
  }

  void generates_with_events_and_stats() {
    auto s = session(512);
    Recorder rec;
    Reply r = s->generate({{"user", "What is 2+2?"}}, greedy(8), rec.callback());
    QCOMPARE(r.finish_reason, FinishReason::Length);
    QCOMPARE(r.stats.generated_tokens, 8u);
    QCOMPARE(r.stats.thinking_tokens + r.stats.answer_tokens, 8u);
    QCOMPARE(r.stats.prompt_tokens, uint32_t(s->build_prompt({{"user", "What is 2+2?"}}, 0)->tokens.size()));
    QCOMPARE(r.stats.reused_tokens, 0u);
    QVERIFY(r.stats.time_to_first_token_ms > 0);
    QVERIFY(r.stats.prefill_tokens_per_s > 0);
    QVERIFY(r.stats.decode_tokens_per_s > 0);
    QCOMPARE(rec.count(Event::Kind::Stats), 2);
    QCOMPARE(rec.count(Event::Kind::Done), 1);
    QCOMPARE(rec.events.back().kind, Event::Kind::Done);
    QCOMPARE(rec.events.back().reason, FinishReason::Length);
    std::string thinking, answer;
    for (const Event& e : rec.events) {
      if (e.kind == Event::Kind::Thinking) thinking += e.text;
      if (e.kind == Event::Kind::Answer) answer += e.text;
    }
    QCOMPARE(thinking, r.thinking);
    QCOMPARE(answer, r.answer);
    // The prompt ended with <think>\n, so the reply is thought until </think>.
    QVERIFY(!r.thinking.empty() || !r.answer.empty());
    // Prompt and all sampled tokens but the last are in the cache.
    QCOMPARE(s->evaluator().n_past(), r.stats.prompt_tokens + 7);

    // The same seed gives the same reply; the greedy reply is reproducible.
    auto s2 = session(512);
    Reply r2 = s2->generate({{"user", "What is 2+2?"}}, greedy(8), nullptr);
    QCOMPARE(r2.thinking, r.thinking);
    QCOMPARE(r2.answer, r.answer);
    QCOMPARE(chat::finish_reason_name(r.finish_reason), "length");
  }

  // The second turn evaluates only what follows the common prefix, and the logits equal a fresh evaluation.
  void kv_reuse_equals_fresh_evaluation() {
    auto a = session(1024);
    std::vector<Message> turn1 = {{"system", "Be brief."}, {"user", "What is 2+2?"}};
    Reply r1 = a->generate(turn1, greedy(6), nullptr);
    QCOMPARE(r1.finish_reason, FinishReason::Length);
    std::vector<Message> turn2 = turn1;
    turn2.push_back({"assistant", r1.thinking + "\n</think>\n\nFour."});
    turn2.push_back({"user", "And 3+3?"});
    auto p1 = a->build_prompt(turn1, 0);
    auto p2 = a->build_prompt(turn2, 0);
    QVERIFY(p1 && p2);
    const size_t lcp = common_prefix(p1->tokens, p2->tokens);
    // The cache is cut where the prior answer's thinking began (<think> is not in the new prompt).
    QCOMPARE(p1->tokens[lcp], s_vocab_find(*a, "<think>"));
    QVERIFY(lcp > 4);

    std::vector<float> reused_logits, fresh_logits;
    auto reused = a->prefill(p2->tokens, reused_logits);
    QVERIFY2(reused, reused ? "" : reused.error().message.c_str());
    QCOMPARE(size_t(*reused), lcp);
    QCOMPARE(a->evaluator().tokens(), p2->tokens);

    auto b = session(1024);
    auto fresh = b->prefill(p2->tokens, fresh_logits);
    QVERIFY(fresh);
    QCOMPARE(*fresh, 0u);
    QCOMPARE(reused_logits.size(), fresh_logits.size());
    double max_diff = 0;
    for (size_t i = 0; i < fresh_logits.size(); ++i)
      max_diff = std::max(max_diff, double(std::abs(reused_logits[i] - fresh_logits[i])));
    qInfo("max |logit difference| reused vs fresh: %g over %zu logits", max_diff, fresh_logits.size());
    QVERIFY(max_diff <= 1e-4);
    QCOMPARE(std::max_element(reused_logits.begin(), reused_logits.end()) - reused_logits.begin(),
             std::max_element(fresh_logits.begin(), fresh_logits.end()) - fresh_logits.begin());

    // Through generate(): the stats report the reuse, and the reply equals the fresh session's.
    auto c = session(1024);
    c->generate(turn1, greedy(6), nullptr);
    Reply rc = c->generate(turn2, greedy(5), nullptr);
    QCOMPARE(size_t(rc.stats.reused_tokens), lcp);
    auto d = session(1024);
    Reply rd = d->generate(turn2, greedy(5), nullptr);
    QCOMPARE(rd.stats.reused_tokens, 0u);
    QCOMPARE(rc.thinking + "|" + rc.answer, rd.thinking + "|" + rd.answer);
    // Regenerating the same turn reuses the whole prompt but its last token.
    Reply again = d->generate(turn2, greedy(5), nullptr);
    QCOMPARE(again.stats.reused_tokens, again.stats.prompt_tokens - 1);
    QCOMPARE(again.thinking + "|" + again.answer, rd.thinking + "|" + rd.answer);
    // reset() forgets the cache.
    d->reset();
    QCOMPARE(d->evaluator().n_past(), 0u);
  }

  void old_turns_are_dropped_to_fit() {
    auto s = session(160);
    std::vector<Message> conv = {{"system", "SYSMARK"}};
    for (int i = 0; i < 6; ++i) {
      conv.push_back({"user", words(12, ("question" + std::to_string(i) + "x").c_str())});
      conv.push_back({"assistant", words(12, ("answer" + std::to_string(i) + "x").c_str())});
    }
    conv.push_back({"user", "NEWESTMARK"});
    Recorder rec;
    GenerateSettings g = greedy(4);
    Reply r = s->generate(conv, g, rec.callback());
    QCOMPARE(r.finish_reason, FinishReason::Length);
    QVERIFY(r.stats.dropped_messages > 0);
    QCOMPARE(rec.count(Event::Kind::ContextDropped), 1);
    QCOMPARE(rec.events.front().kind, Event::Kind::ContextDropped);
    QCOMPARE(rec.events.front().dropped_messages, r.stats.dropped_messages);
    QVERIFY(!rec.events.front().text.empty());
    QVERIFY(r.stats.dropped_messages % 2 == 0);  // whole turns: a question and its answer
    auto p = s->build_prompt(conv, 16);
    QVERIFY(p);
    QCOMPARE(p->dropped_messages, r.stats.dropped_messages);
    QVERIFY(p->text.find("SYSMARK") != std::string::npos);
    QVERIFY(p->text.find("NEWESTMARK") != std::string::npos);
    QVERIFY(p->text.find("question0x") == std::string::npos);  // the oldest went first
    QVERIFY(p->text.find("question5x") != std::string::npos);  // the newest old turn stayed
    QVERIFY(p->tokens.size() + 16 <= 160);
    QCOMPARE(r.stats.prompt_tokens, uint32_t(p->tokens.size()));
  }

  void too_long_message_is_context_full() {
    auto s = session(128);
    Recorder rec;
    Reply r = s->generate({{"system", "S"}, {"user", words(200, "w")}}, greedy(4), rec.callback());
    QCOMPARE(r.finish_reason, FinishReason::ContextFull);
    QVERIFY(r.error.find("too long") != std::string::npos);
    QCOMPARE(rec.events.back().kind, Event::Kind::Done);
    QCOMPARE(rec.events.back().reason, FinishReason::ContextFull);
    QCOMPARE(rec.events.back().text, r.error);
    QCOMPARE(r.stats.generated_tokens, 0u);
  }

  void generation_stops_when_the_context_is_full() {
    auto s = session(48);
    GenerateSettings g = greedy(0);  // no max_tokens
    g.reserve_tokens = 8;
    Reply r = s->generate({{"user", "Hi"}}, g, nullptr);
    QCOMPARE(r.finish_reason, FinishReason::ContextFull);
    QVERIFY(!r.error.empty());
    QCOMPARE(s->evaluator().n_past(), 48u);
    QCOMPARE(r.stats.generated_tokens, 48u - r.stats.prompt_tokens + 1);
  }

  void cancel_from_another_thread_within_one_token() {
    auto s = session(512);
    std::atomic<bool> cancelled{false};
    std::thread canceller;
    uint32_t n_past_at_cancel = 0;
    int texts_after_cancel = 0;
    int texts = 0;
    chat::EventCallback cb = [&](const Event& e) {
      if (e.kind != Event::Kind::Thinking && e.kind != Event::Kind::Answer) return true;
      if (cancelled) ++texts_after_cancel;
      if (++texts == 3) {
        n_past_at_cancel = s->evaluator().n_past();
        canceller = std::thread([&] {
          s->cancel();
          cancelled = true;
        });
        for (int i = 0; i < 2000 && !cancelled; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      return true;
    };
    Reply r = s->generate({{"user", "Count to a hundred."}}, greedy(200), cb);
    canceller.join();
    QVERIFY(cancelled);
    QCOMPARE(r.finish_reason, FinishReason::Cancelled);
    QCOMPARE(s->evaluator().n_past(), n_past_at_cancel);  // not one more token evaluated
    QVERIFY(r.stats.generated_tokens < 200);
    QVERIFY(texts_after_cancel <= 1);  // only text held back by the splitter/detokenizer may follow

    // The flag is cleared: the next turn runs.
    Reply next = s->generate({{"user", "Again."}}, greedy(3), nullptr);
    QCOMPARE(next.finish_reason, FinishReason::Length);
  }

  void cancel_before_generate_stops_the_prefill() {
    auto s = session(1024, nullptr, 8);
    s->cancel();
    Reply r = s->generate({{"user", words(60, "w")}}, greedy(5), nullptr);
    QCOMPARE(r.finish_reason, FinishReason::Cancelled);
    QCOMPARE(r.stats.generated_tokens, 0u);
    QVERIFY(s->evaluator().n_past() < r.stats.prompt_tokens);
  }

  void callback_false_stops() {
    auto s = session(512);
    int texts_after_stop = 0;
    bool stopped = false;
    FinishReason done_reason = FinishReason::Eos;
    Reply r = s->generate({{"user", "Tell me a story."}}, greedy(50), [&](const Event& e) {
      if (e.kind == Event::Kind::Done) done_reason = e.reason;
      if (e.kind != Event::Kind::Thinking && e.kind != Event::Kind::Answer) return true;
      if (stopped) ++texts_after_stop;
      stopped = true;
      return false;
    });
    QCOMPARE(r.finish_reason, FinishReason::Cancelled);
    QCOMPARE(done_reason, FinishReason::Cancelled);
    QCOMPARE(texts_after_stop, 0);
    QVERIFY(r.stats.generated_tokens < 50);
  }

  void thinking_budget_closes_the_thought() {
    auto s = session(512);
    GenerateSettings g = greedy(12);
    g.thinking_budget = 4;
    Recorder rec;
    Reply r = s->generate({{"user", "Think briefly."}}, g, rec.callback());
    QCOMPARE(r.finish_reason, FinishReason::Length);
    QCOMPARE(r.stats.thinking_tokens, 4u);
    QCOMPARE(r.stats.answer_tokens, 8u);
    QCOMPARE(r.stats.forced_tokens, uint32_t(s->vocab().encode("\n</think>\n\n", false, true).size()));
    QVERIFY(!r.stats.thought_unclosed);
    QVERIFY(r.stats.thinking_ms >= 0);
    const auto& toks = s->evaluator().tokens();
    QVERIFY(std::find(toks.begin(), toks.end(), s->vocab().find("</think>")) != toks.end());
    // All thinking events come before the first answer event.
    bool answer_seen = false;
    for (const Event& e : rec.events) {
      if (e.kind == Event::Kind::Answer) answer_seen = true;
      if (e.kind == Event::Kind::Thinking) QVERIFY(!answer_seen);
    }
    QVERIFY(answer_seen);
    // Without a budget, the random model never closes its thought: all of it is thinking, and it says so.
    Reply open = s->generate({{"user", "Think briefly."}}, greedy(12), nullptr);
    QCOMPARE(open.stats.thinking_tokens, 12u);
    QVERIFY(open.answer.empty());
    QVERIFY(open.stats.thought_unclosed);
  }

  // Other families: R1-0528's template ends the prompt with <｜Assistant｜>; the session opens the thought.
  // Qwen3 opens its thought itself, so nothing is added and text before a <think> is the answer.
  void other_template_families() {
    auto make = [&](chat::TemplateFamily f) {
      cpu::Options o;
      o.n_ctx = 256;
      o.n_threads = 2;
      auto ev = cpu::create_evaluator(*model_, o);
      if (!ev) qFatal("create_evaluator: %s", ev.error().message.c_str());
      return std::make_unique<Session>(model_->shared_vocab(), std::move(*ev), chat::ChatTemplate::of_family(f));
    };
    auto r0528 = make(chat::TemplateFamily::R1_0528);
    auto p = r0528->build_prompt({{"system", "S"}, {"user", "Hi"}}, 0);
    QVERIFY(p);
    QCOMPARE(QString::fromStdString(p->text),
             QString::fromUtf8("<｜begin▁of▁sentence｜>S<｜User｜>Hi<｜Assistant｜><think>\n"));
    Reply r = r0528->generate({{"user", "Hi"}}, greedy(4), nullptr);
    QCOMPARE(r.stats.thinking_tokens, 4u);

    auto qwen3 = make(chat::TemplateFamily::Qwen3);
    p = qwen3->build_prompt({{"user", "Hi"}}, 0);
    QVERIFY(p);
    QCOMPARE(QString::fromStdString(p->text), QString("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"));
    r = qwen3->generate({{"user", "Hi"}}, greedy(4), nullptr);
    QCOMPARE(r.stats.answer_tokens, 4u);
    QVERIFY(r.thinking.empty());
    QVERIFY(!r.stats.thought_unclosed);
  }

  void default_context_size() {
    const uint64_t per_token = model_->kv_cache_bytes(256) / 256;
    QCOMPARE(chat::default_n_ctx(*model_, uint64_t(1) << 40), 4096u);  // capped at the trained length
    QCOMPARE(chat::default_n_ctx(*model_, 0), 512u);                     // never below 512
    const uint32_t n = chat::default_n_ctx(*model_, per_token * 2 * 1000);
    QCOMPARE(n, 768u);  // half the memory holds 1000 tokens: 768 is the largest multiple of 256
  }

  // A model whose EOS is the token it would say first stops at once with reason eos.
  void stops_at_eos() {
    auto s = session(512);
    auto p = s->build_prompt({{"user", "Hi"}}, 0);
    std::vector<float> logits;
    QVERIFY(s->prefill(p->tokens, logits));
    const auto first = tokenizer::Token(std::max_element(logits.begin(), logits.end()) - logits.begin());
    QVERIFY(!s->vocab().is_eog(first));

    gguf::Writer w;
    w.copy_metadata(*vocab_, "");
    w.set_uint32("tokenizer.ggml.eos_token_id", uint32_t(first));
    const std::string vpath = dir_.filePath("eos-vocab.gguf").toStdString();
    QVERIFY(w.write(vpath));
    auto vf = gguf::File::open(vpath);
    QVERIFY(vf);
    auto m = make_model(vf->get(), "tiny-eos.gguf");
    auto e = session(512, m.get());
    QVERIFY(e->vocab().is_eog(first));
    Reply r = e->generate({{"user", "Hi"}}, greedy(10), nullptr);
    QCOMPARE(r.finish_reason, FinishReason::Eos);
    QCOMPARE(r.stats.generated_tokens, 0u);
    QVERIFY(r.stats.time_to_first_token_ms > 0);
  }

 private:
  static tokenizer::Token s_vocab_find(Session& s, const char* text) { return s.vocab().find(text); }
};

QTEST_GUILESS_MAIN(TestChatSession)
#include "test_chat_session.moc"
