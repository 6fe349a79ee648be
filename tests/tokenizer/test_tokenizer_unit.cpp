// The tokenizer's parts on small inputs: UTF-8 decoding, character classes, NFC, the GPT-2 byte map, the
// pre-tokenizers against a real regex engine, BPE merge order, special-token splitting, the detokenizer and
// the validation of vocabularies. No GGUF file needed (test_tokenizer_gguf covers the real vocabularies).
#include <QtTest>

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <set>

#include "inference/tokenizer/pretokenizer.h"
#include "inference/tokenizer/tokenizer.h"
#include "inference/tokenizer/unicode.h"

using namespace penser::tokenizer;

namespace {

std::string u8(const char* s) { return std::string(s); }

// Every code point of s, decoded with unicode::decode_one.
std::vector<uint32_t> cpts(std::string_view s) {
  std::vector<uint32_t> out;
  for (size_t i = 0; i < s.size();) {
    const unicode::Decoded d = unicode::decode_one(s, i);
    out.push_back(d.cpt);
    i += d.len;
  }
  return out;
}

std::string stand_in(uint8_t b) {
  std::string s;
  unicode::append_utf8(s, unicode::byte_to_cpt(b));
  return s;
}

// A small vocabulary: the 256 byte tokens (ids 0..255, id = byte), then `extra` tokens, with merges.
VocabData tiny_vocab(const std::vector<std::string>& extra_bytes, const std::vector<std::string>& merges_bytes,
                     const char* pre = "qwen2") {
  VocabData d;
  d.model = "gpt2";
  d.pre = pre;
  for (int b = 0; b < 256; ++b) d.tokens.push_back(stand_in(static_cast<uint8_t>(b)));
  const auto to_stand_in = [](const std::string& bytes) {
    std::string s;
    for (char c : bytes) s += stand_in(static_cast<uint8_t>(c));
    return s;
  };
  for (const std::string& e : extra_bytes) d.tokens.push_back(to_stand_in(e));
  for (const std::string& m : merges_bytes) {
    const size_t sp = m.find(' ');
    d.merges.push_back(to_stand_in(m.substr(0, sp)) + " " + to_stand_in(m.substr(sp + 1)));
  }
  return d;
}

std::shared_ptr<const Vocab> build(VocabData d) {
  auto v = Vocab::from_data(std::move(d), "test");
  if (!v) qFatal("from_data failed: %s", v.error().message.c_str());
  return *v;
}

// Qt's decoder as the independent judge; Stateless makes a sequence cut off at the end an error too.
bool valid_utf8(const std::string& s) {
  QStringDecoder dec(QStringConverter::Utf8, QStringConverter::Flag::Stateless);
  const QString ignored = dec.decode(QByteArrayView(s.data(), qsizetype(s.size())));
  return !dec.hasError();
}

}  // namespace

class TestTokenizerUnit : public QObject {
  Q_OBJECT
 private slots:
  void utf8_maximal_subparts_data() {
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<int>("n_replacements");
    QTest::addColumn<QByteArray>("expected");
    // Expected values are Python's bytes.decode("utf-8", "replace"), which follows the same practice.
    QTest::newRow("truncated 3-byte then A") << QByteArray("\xE2\x82" "A") << 1 << QByteArray("\xEF\xBF\xBD" "A");
    QTest::newRow("overlong C0 AF") << QByteArray("\xC0\xAF") << 2 << QByteArray("\xEF\xBF\xBD\xEF\xBF\xBD");
    QTest::newRow("surrogate ED A0 80") << QByteArray("\xED\xA0\x80") << 3
                                        << QByteArray("\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    QTest::newRow("above U+10FFFF") << QByteArray("\xF4\x90\x80\x80") << 4
                                    << QByteArray("\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    QTest::newRow("cut emoji at end") << QByteArray("\xF0\x9F\x98") << 1 << QByteArray("\xEF\xBF\xBD");
    QTest::newRow("FF between letters") << QByteArray("a\xFF" "b") << 1 << QByteArray("a\xEF\xBF\xBD" "b");
    QTest::newRow("overlong E0 80 AF") << QByteArray("\xE0\x80\xAF") << 3
                                       << QByteArray("\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    QTest::newRow("valid emoji") << QByteArray("\xF0\x9F\x98\x80") << 0 << QByteArray("\xF0\x9F\x98\x80");
    QTest::newRow("NUL is valid") << QByteArray("a\0b", 3) << 0 << QByteArray("a\0b", 3);
  }
  void utf8_maximal_subparts() {
    QFETCH(QByteArray, bytes);
    QFETCH(int, n_replacements);
    QFETCH(QByteArray, expected);
    const std::string_view in(bytes.constData(), size_t(bytes.size()));
    QCOMPARE(unicode::is_valid_utf8(in), n_replacements == 0);
    const std::string out = unicode::sanitize_utf8(in);
    QCOMPARE(QByteArray(out.data(), qsizetype(out.size())), expected);
    int n = 0;
    for (uint32_t c : cpts(in)) n += c == unicode::kReplacement;
    QCOMPARE(n, n_replacements);
  }

  void character_classes() {
    const struct { uint32_t c; uint8_t cls; } rows[] = {
        {'a', unicode::kLetter}, {0x4E2D, unicode::kLetter} /* 中 */, {0x01C5, unicode::kLetter} /* Lt */,
        {0x02B0, unicode::kLetter} /* Lm */, {'5', unicode::kNumber}, {0x0663, unicode::kNumber} /* Arabic 3 */,
        {0x00BD, unicode::kNumber} /* ½ No */, {0x216B, unicode::kNumber} /* Ⅻ Nl */,
        {' ', unicode::kSpace}, {'\t', unicode::kSpace}, {'\n', unicode::kSpace}, {0x0B, unicode::kSpace},
        {0x0C, unicode::kSpace}, {'\r', unicode::kSpace}, {0x85, unicode::kSpace}, {0xA0, unicode::kSpace},
        {0x1680, unicode::kSpace}, {0x2007, unicode::kSpace}, {0x2028, unicode::kSpace}, {0x2029, unicode::kSpace},
        {0x202F, unicode::kSpace}, {0x3000, unicode::kSpace},
        {0x1C, 0}, {0x1F, 0}, {0x200B, 0}, {0x180E, 0}, {0xFEFF, 0}, {0xAD, 0}, {'!', 0}, {'\'', 0},
        {0x0301, 0} /* combining acute: Mn */, {0x1F600, 0} /* emoji: So */,
    };
    for (const auto& r : rows) {
      if (unicode::classify(r.c) != r.cls)
        QFAIL(qPrintable(QString("U+%1: class %2, expected %3").arg(r.c, 4, 16, QChar('0')).arg(unicode::classify(r.c)).arg(r.cls)));
    }
  }

  void nfc() {
    QCOMPARE(unicode::nfc(u8("e\xCC\x81")), u8("\xC3\xA9"));                 // e + U+0301 -> é
    QCOMPARE(unicode::nfc(u8("\xE2\x84\xAB")), u8("\xC3\x85"));              // Å ANGSTROM SIGN -> Å
    QCOMPARE(unicode::nfc(u8("\xE1\x84\x80\xE1\x85\xA1")), u8("\xEA\xB0\x80"));  // jamo -> 가
    QCOMPARE(unicode::nfc(u8("caf\xC3\xA9 plain")), u8("caf\xC3\xA9 plain"));
    QCOMPARE(unicode::nfc(std::string("a\0e\xCC\x81", 5)), std::string("a\0\xC3\xA9", 4));  // NUL survives
    // Combining marks in the wrong canonical order are reordered (below U+0323 before acute U+0301).
    QCOMPARE(unicode::nfc(u8("q\xCC\x81\xCC\xA3")), u8("q\xCC\xA3\xCC\x81"));
  }

  void gpt2_byte_map() {
    std::set<uint32_t> seen;
    for (int b = 0; b < 256; ++b) {
      const uint32_t c = unicode::byte_to_cpt(uint8_t(b));
      QVERIFY(seen.insert(c).second);
      QCOMPARE(unicode::byte_from_cpt(c), b);
    }
    QCOMPARE(unicode::byte_to_cpt(' '), 0x120u);   // Ġ
    QCOMPARE(unicode::byte_to_cpt('\n'), 0x10Au);  // Ċ
    QCOMPARE(unicode::byte_to_cpt(0), 0x100u);
    QCOMPARE(unicode::byte_to_cpt('!'), uint32_t('!'));
    QCOMPARE(unicode::byte_to_cpt(0xAD), 0x143u);  // the last of the 68 remapped bytes
    QCOMPARE(unicode::byte_from_cpt('A'), int('A'));
    QCOMPARE(unicode::byte_from_cpt(0x144), -1);
    QCOMPARE(unicode::byte_from_cpt(0x4E2D), -1);
  }

  // pretokenizer_cases.json holds the pieces the original regexes give (Python's `regex` module), see
  // make_pretokenizer_cases.py.
  void pre_tokenizers_match_regex() {
    QFile f(PENSER_TOKENIZER_CASES);
    QVERIFY2(f.open(QIODevice::ReadOnly), PENSER_TOKENIZER_CASES);
    const QJsonArray cases = QJsonDocument::fromJson(f.readAll()).array();
    QVERIFY(cases.size() >= 200);
    PreTokenizeScratch scratch;
    int checked = 0;
    for (const QJsonValue& v : cases) {
      const QJsonObject o = v.toObject();
      const QByteArray text = o["text"].toString().toUtf8();
      const std::string_view tv(text.constData(), size_t(text.size()));
      for (const auto& [kind, key] : {std::pair{PreTokenizer::Qwen2, "qwen2"}, std::pair{PreTokenizer::Llama3, "llama3"}}) {
        // Compared as bytes: QString::fromUtf8 would drop a piece that is only a U+FEFF.
        QByteArrayList expected;
        for (const QJsonValue& p : o[key].toArray()) expected << p.toString().toUtf8();
        std::vector<Piece> pieces;
        pre_tokenize(kind, tv, scratch, pieces);
        QByteArrayList got;
        for (const Piece& p : pieces) got << text.mid(p.begin, p.end - p.begin);
        if (got != expected)
          QFAIL(qPrintable(QString("%1 on %2:\n  got      %3\n  expected %4").arg(key, o["text"].toString(),
                                                                              QString::fromUtf8(got.join("|")),
                                                                              QString::fromUtf8(expected.join("|")))));
        ++checked;
      }
    }
    QCOMPARE(checked, 2 * cases.size());
  }

  void bpe_applies_lowest_rank_first() {
    // ids: 256 "bc", 257 "ab", 258 "abc"; "b c" outranks "a b", so "abc" = a + bc, then a + bc -> abc.
    auto v = build(tiny_vocab({"bc", "ab", "abc"}, {"b c", "a b", "a bc"}));
    QCOMPARE(v->encode("abc", false, false), (std::vector<Token>{258}));
    QCOMPARE(v->encode("ab", false, false), (std::vector<Token>{257}));
    // Pieces up to 16 bytes and longer ones take different code paths; both must agree.
    QCOMPARE(v->encode("abcabcabcabcabc", false, false), std::vector<Token>(5, 258));     // 15 bytes
    QCOMPARE(v->encode("abcabcabcabcabcabc", false, false), std::vector<Token>(6, 258));  // 18 bytes
    QCOMPARE(v->encode("abcabcabcabcabcab", false, false), (std::vector<Token>{258, 258, 258, 258, 258, 257}));
    // Without "a bc", the "a b" merge can no longer apply once "b c" took the b.
    auto w = build(tiny_vocab({"bc", "ab", "abc"}, {"b c", "a b"}));
    QCOMPARE(w->encode("abc", false, false), (std::vector<Token>{'a', 256}));
  }

  void bpe_equal_ranks_go_leftmost() {
    auto v = build(tiny_vocab({"aa"}, {"a a"}));
    QCOMPARE(v->encode("aaa", false, false), (std::vector<Token>{256, 'a'}));
    QCOMPARE(v->encode("aaaa", false, false), (std::vector<Token>{256, 256}));
    // A long run exercises the heap: 1001 'a' -> 500 "aa" and one 'a'.
    const std::vector<Token> ids = v->encode(std::string(1001, 'a'), false, false);
    QCOMPARE(ids.size(), size_t(501));
    QCOMPARE(ids.back(), Token('a'));
  }

  void llama3_whole_word_wins_over_merges() {
    // "xyz" is a token but no merge leads to it: BPE gives bytes; Llama 3's ignore_merges takes the word.
    QCOMPARE(build(tiny_vocab({"xyz"}, {}, "qwen2"))->encode("xyz", false, false), (std::vector<Token>{'x', 'y', 'z'}));
    QCOMPARE(build(tiny_vocab({"xyz"}, {}, "llama-bpe"))->encode("xyz", false, false), (std::vector<Token>{256}));
  }

  void special_tokens_leftmost_longest() {
    VocabData d = tiny_vocab({}, {});
    const Token ab = Token(d.tokens.size()), bc = ab + 1, abx = ab + 2, user = ab + 3;
    d.tokens.insert(d.tokens.end(), {"<ab>", "b>c", "<ab>x", "<think>"});
    d.token_types.assign(d.tokens.size(), int32_t(TokenType::NORMAL));
    d.token_types[ab] = d.token_types[bc] = d.token_types[abx] = int32_t(TokenType::CONTROL);
    d.token_types[user] = int32_t(TokenType::USER_DEFINED);
    auto v = build(std::move(d));
    QCOMPARE(v->special_tokens().size(), size_t(4));
    QCOMPARE(v->encode("<ab>x", false, true), (std::vector<Token>{abx}));         // longest
    QCOMPARE(v->encode("<ab>c", false, true), (std::vector<Token>{ab, 'c'}));     // leftmost beats "b>c"
    QCOMPARE(v->encode("q<think>", false, true), (std::vector<Token>{'q', user}));
    QCOMPARE(v->encode("<think", false, true), (std::vector<Token>{'<', 't', 'h', 'i', 'n', 'k'}));
    const std::vector<Token> plain = v->encode("<think>", false, false);
    QVERIFY(std::find(plain.begin(), plain.end(), user) == plain.end());
    QCOMPARE(v->token_to_bytes(user), std::string("<think>"));
  }

  void nfc_applies_to_qwen2_only() {
    // "e" + U+0301 (bytes 65 CC 81) and "é" (C3 A9); only bytes and no merges, so ids are the bytes.
    const std::string decomposed = u8("e\xCC\x81");
    QCOMPARE(build(tiny_vocab({}, {}, "qwen2"))->encode(decomposed, false, false), (std::vector<Token>{0xC3, 0xA9}));
    QCOMPARE(build(tiny_vocab({}, {}, "llama-bpe"))->encode(decomposed, false, false),
             (std::vector<Token>{'e', 0xCC, 0x81}));
  }

  void invalid_utf8_reads_as_replacement() {
    auto v = build(tiny_vocab({}, {}));
    const std::vector<Token> bad = v->encode("a\xFF" "b\xE2\x82", false, false);
    QCOMPARE(bad, v->encode("a\xEF\xBF\xBD" "b\xEF\xBF\xBD", false, false));
    QCOMPARE(v->decode(bad), u8("a\xEF\xBF\xBD" "b\xEF\xBF\xBD"));
  }

  void detokenizer_holds_partial_characters() {
    auto v = build(tiny_vocab({}, {}));
    Detokenizer d(*v);
    QCOMPARE(d.push('h'), u8("h"));
    QCOMPARE(d.push(0xC3), u8(""));  // first byte of é
    QCOMPARE(d.push(0xA9), u8("\xC3\xA9"));
    QCOMPARE(d.push(0xF0), u8(""));  // 😀 in four tokens
    QCOMPARE(d.push(0x9F), u8(""));
    QCOMPARE(d.push(0x98), u8(""));
    QCOMPARE(d.push(0x80), u8("\xF0\x9F\x98\x80"));
    QCOMPARE(d.flush(), u8(""));
    // An impossible byte is replaced at once; a dangling lead byte becomes U+FFFD at flush.
    QCOMPARE(d.push(0xFF), u8("\xEF\xBF\xBD"));
    QCOMPARE(d.push(0xE4), u8(""));
    QCOMPARE(d.push('x'), u8("\xEF\xBF\xBD" "x"));  // E4 followed by ASCII can never complete
    QCOMPARE(d.push(0xE4), u8(""));
    QCOMPARE(d.push(0xB8), u8(""));
    QCOMPARE(d.flush(), u8("\xEF\xBF\xBD"));
    QCOMPARE(d.flush(), u8(""));
    QCOMPARE(d.push(-1), u8(""));  // ids outside the vocabulary decode to nothing
  }

  void detokenizer_output_is_always_valid_utf8() {
    // Every byte sequence of length <= 3 over a set of interesting bytes, fed one byte token at a time.
    auto v = build(tiny_vocab({}, {}));
    const uint8_t bytes[] = {'a', 0x80, 0xBF, 0xC2, 0xC3, 0xE0, 0xE4, 0xED, 0xF0, 0xF4, 0xF5, 0xFF, 0xA0, 0x9F};
    int runs = 0;
    for (uint8_t a : bytes)
      for (uint8_t b : bytes)
        for (uint8_t c : bytes) {
          Detokenizer d(*v);
          std::string all;
          for (uint8_t x : {a, b, c}) {
            const std::string piece = d.push(x);
            QVERIFY(valid_utf8(piece));
            all += piece;
          }
          const std::string rest = d.flush();
          QVERIFY(valid_utf8(rest));
          all += rest;
          // The same text as replacing the ill-formed parts of the whole sequence at once.
          const char seq[] = {char(a), char(b), char(c)};
          QCOMPARE(all, unicode::sanitize_utf8(std::string_view(seq, 3)));
          ++runs;
        }
    QCOMPARE(runs, 14 * 14 * 14);
  }

  void eog_tokens() {
    VocabData d = tiny_vocab({}, {});
    const Token first = Token(d.tokens.size());
    d.tokens.insert(d.tokens.end(), {"<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|User|>"});
    d.token_types.assign(d.tokens.size(), int32_t(TokenType::NORMAL));
    d.token_types[first] = d.token_types[first + 2] = d.token_types[first + 3] = int32_t(TokenType::CONTROL);
    d.eos = 'E';  // any id can be EOS
    auto v = build(std::move(d));
    // <|endoftext|> is NORMAL here, so it is not an end marker.
    QCOMPARE(v->eog_tokens(), (std::vector<Token>{'E', first, first + 2}));
    QVERIFY(v->is_eog('E') && v->is_eog(first) && !v->is_eog(first + 1) && !v->is_eog(first + 3));
    QVERIFY(!v->is_eog(-1) && !v->is_eog(v->n_tokens()));
  }

  void validation_errors_data() {
    QTest::addColumn<int>("which");
    QTest::addColumn<QString>("expected");
    QTest::newRow("spm model") << 0 << "unsupported tokenizer 'llama'";
    QTest::newRow("pre missing") << 1 << "tokenizer.ggml.pre is missing";
    QTest::newRow("pre unknown") << 2 << "unsupported pre-tokenizer 'falcon'";
    QTest::newRow("types length") << 3 << "token_type has 3 entries";
    QTest::newRow("type value") << 4 << "token_type[5] is 9";
    QTest::newRow("bos range") << 5 << "bos_token_id is 300, outside the vocabulary of 256";
    QTest::newRow("no tokens") << 6 << "tokenizer.ggml.tokens is empty";
    QTest::newRow("byte token missing") << 7 << "no token for byte 0x41";
    QTest::newRow("bad merge") << 8 << "merges[0] is 'ab'";
    QTest::newRow("eos negative") << 9 << "eos_token_id is -5";
  }
  void validation_errors() {
    QFETCH(int, which);
    QFETCH(QString, expected);
    VocabData d = tiny_vocab({}, {});
    switch (which) {
      case 0: d.model = "llama"; break;
      case 1: d.pre.clear(); break;
      case 2: d.pre = "falcon"; break;
      case 3: d.token_types = {1, 1, 1}; break;
      case 4: d.token_types.assign(256, 1); d.token_types[5] = 9; break;
      case 5: d.bos = 300; break;
      case 6: d.tokens.clear(); break;
      case 7: d.tokens['A'] = "not A"; break;
      case 8: d.merges = {"ab"}; break;
      case 9: d.eos = -5; break;
    }
    auto v = Vocab::from_data(std::move(d), "tiny.gguf");
    QVERIFY(!v);
    const QString msg = QString::fromStdString(v.error().message);
    QVERIFY2(msg.contains(expected) && msg.startsWith("tiny.gguf: "), qPrintable(msg));
    if (which == 1 || which == 2) QVERIFY2(msg.contains("deepseek-r1-qwen") && msg.contains("llama-bpe"), qPrintable(msg));
  }

  void merges_with_unknown_tokens_are_skipped() {
    auto v = build(tiny_vocab({"ab"}, {"a b", "zz q", "a zz"}));
    QCOMPARE(v->n_merges(), 1);
    QCOMPARE(v->encode("ab", false, false), (std::vector<Token>{256}));
  }
};

QTEST_APPLESS_MAIN(TestTokenizerUnit)
#include "test_tokenizer_unit.moc"
