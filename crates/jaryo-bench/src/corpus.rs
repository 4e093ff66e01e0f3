//! The deterministic corpus of the search benchmark: mixed Korean/English documents of about
//! 1 KB, and query words of every class with a spread of frequencies.
//!
//! Documents read like jaryo's real input — notes and short reports — as far as search cares:
//! Korean nouns with their particles attached (서버를, 회의에서), verbs with endings
//! (정리했다, 만들어서), English tech words alone or with particles (axum으로), numbers and
//! dates, Markdown headings and lists. Words are drawn from the fixed lists below with
//! Zipf-like frequencies (a word's weight falls as 1/rank, Zipf–Mandelbrot), and a generated
//! long tail of rare names makes the vocabulary thousands of words: the most frequent listed
//! words are in a third to a half of the documents (회의 also inside 회의록, 회의실), the
//! rarest tail words in about one in a thousand, as in real notes.
//!
//! `Corpus::queries` picks the benchmark's query words per [`QueryClass`]; the same text is
//! the needle of the `LIKE '%…%'` baseline.
//!
//! Invariants: the corpus depends only on [`CorpusConfig`] — document `i` is generated from
//! its own ChaCha8 stream (seed, stream `i`), so documents can be made in any order or in
//! parallel and are identical on every machine. The word lists live here; nothing is
//! downloaded. Changing a list or the generator changes every benchmark figure: the
//! fingerprint test says so when it happens.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// How big a corpus to make, and from which seed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorpusConfig {
    /// Number of documents.
    pub documents: usize,
    /// The seed; the same seed gives the same corpus everywhere.
    pub seed: u64,
    /// Target body size in bytes (bodies stop at the first sentence past it).
    pub body_bytes: usize,
}

impl Default for CorpusConfig {
    fn default() -> Self {
        Self {
            documents: 100_000,
            seed: 0x6A61_7279_6F00_0005,
            body_bytes: 1024,
        }
    }
}

/// One generated document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeneratedDocument {
    pub index: usize,
    pub title: String,
    pub body: String,
}

/// The shapes of query the benchmark measures separately.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum QueryClass {
    /// One Hangul syllable (집): the prefix-scan path.
    KoreanOneSyllable,
    /// A two-syllable Korean word (회의): the most common Korean query.
    KoreanTwoSyllables,
    /// A Korean word of three or more syllables (데이터베이스): a bigram phrase.
    KoreanThreePlusSyllables,
    /// An English word.
    English,
    /// An English word and a Korean word (`axum 서버`).
    Mixed,
}

impl QueryClass {
    pub const ALL: [QueryClass; 5] = [
        QueryClass::KoreanOneSyllable,
        QueryClass::KoreanTwoSyllables,
        QueryClass::KoreanThreePlusSyllables,
        QueryClass::English,
        QueryClass::Mixed,
    ];

    /// A short label for printed tables.
    pub fn label(self) -> &'static str {
        match self {
            QueryClass::KoreanOneSyllable => "ko-1syl",
            QueryClass::KoreanTwoSyllables => "ko-2syl",
            QueryClass::KoreanThreePlusSyllables => "ko-3+syl",
            QueryClass::English => "en",
            QueryClass::Mixed => "mixed",
        }
    }
}

/// A query for the benchmark: the text to search for, and how frequent its word is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BenchQuery {
    pub class: QueryClass,
    /// What a user would type; also the needle of the `LIKE '%…%'` baseline.
    pub text: String,
    /// Rank of the (rarest) word in its vocabulary: 0 is the most frequent.
    pub vocabulary_rank: usize,
}

/// Korean nouns, most frequent first. One-, two- and three-plus-syllable words are spread over
/// the whole range, so each query class has frequent and rare words.
const KOREAN_NOUNS: &[&str] = &[
    "일",
    "회의",
    "서버",
    "자료",
    "데이터",
    "문서",
    "메모",
    "집",
    "일정",
    "작업",
    "프로젝트",
    "오류",
    "설정",
    "책",
    "검색",
    "배포",
    "사용자",
    "결과",
    "계획",
    "돈",
    "정리",
    "고객",
    "회의록",
    "요청",
    "기능",
    "시간",
    "말",
    "내용",
    "데이터베이스",
    "방법",
    "문제",
    "질문",
    "차",
    "답변",
    "보고서",
    "사람",
    "생각",
    "길",
    "이유",
    "목표",
    "클라이언트",
    "예산",
    "비용",
    "손",
    "매출",
    "계약",
    "출장",
    "개발자",
    "휴가",
    "점심",
    "물",
    "저녁",
    "운동",
    "네트워크",
    "독서",
    "여행",
    "눈",
    "가족",
    "친구",
    "컴퓨터",
    "학교",
    "수업",
    "과제",
    "팀",
    "시험",
    "발표",
    "인공지능",
    "모델",
    "학습",
    "표",
    "추론",
    "로그",
    "라이브러리",
    "쿼리",
    "색인",
    "글",
    "캐시",
    "지연",
    "프레임워크",
    "속도",
    "성능",
    "밤",
    "용량",
    "메일",
    "관리자",
    "전화",
    "주소",
    "값",
    "일기",
    "감정",
    "알고리즘",
    "날씨",
    "건강",
    "꿈",
    "병원",
    "운전",
    "트랜잭션",
    "주차",
    "택시",
    "문",
    "버스",
    "공항",
    "마이그레이션",
    "호텔",
    "식당",
    "키",
    "커피",
    "음악",
    "대시보드",
    "영화",
    "사진",
    "줄",
    "그림",
    "노래",
    "파이프라인",
    "게임",
    "번역",
    "창",
    "요약",
    "초안",
    "벤치마크",
    "검토",
    "승인",
    "앱",
    "거절",
    "삭제",
    "기획서",
    "수정",
    "변경",
    "칸",
    "추가",
    "기록",
    "계약서",
    "확인",
    "연락",
    "봄",
    "약속",
    "준비",
    "컨테이너",
    "마감",
    "진행",
    "빵",
    "완료",
    "대기",
    "모니터링",
    "실패",
    "성공",
    "약",
    "스케줄",
    "부서",
    "견적서",
    "역",
    "화면",
    "버튼",
    "체크리스트",
    "층",
    "링크",
    "파일",
    "임베딩",
    "폴더",
    "영수증",
    "뒤",
    "권한",
    "계정",
    "스프레드시트",
    "앞",
    "질의",
    "응답",
    "토크나이저",
    "옆",
    "청구서",
    "백엔드",
    "형태소",
    "프론트엔드",
    "자연어",
    "회의실",
    "연구소",
    "도서관",
    "운영체제",
    "가상머신",
    "검색엔진",
    "리팩터링",
    "알림창",
    "쿠버네티스",
];

/// English words, most frequent first.
const ENGLISH_WORDS: &[&str] = &[
    "server",
    "api",
    "search",
    "rust",
    "model",
    "query",
    "index",
    "deploy",
    "memo",
    "cache",
    "database",
    "axum",
    "test",
    "build",
    "latency",
    "document",
    "sqlite",
    "token",
    "bug",
    "release",
    "tokio",
    "postgres",
    "prompt",
    "draft",
    "docker",
    "worker",
    "queue",
    "fix",
    "review",
    "json",
    "http",
    "embedding",
    "commit",
    "branch",
    "schema",
    "backup",
    "vector",
    "feature",
    "chunk",
    "snippet",
    "migration",
    "timeout",
    "retry",
    "stream",
    "config",
    "benchmark",
    "ranking",
    "throughput",
    "router",
    "handler",
    "cluster",
    "lease",
    "gate",
    "priority",
    "async",
    "thread",
    "mutex",
    "channel",
    "socket",
    "middleware",
    "metric",
    "trace",
    "alert",
    "dashboard",
    "replica",
    "shard",
    "transaction",
    "lock",
    "wal",
    "fts5",
    "bm25",
    "bigram",
    "unicode",
    "hangul",
    "github",
    "linux",
    "macos",
    "nginx",
    "redis",
    "kafka",
    "grpc",
    "graphql",
    "oauth",
    "jwt",
    "tls",
    "dns",
    "cpu",
    "gpu",
    "memory",
    "disk",
    "python",
    "typescript",
    "react",
    "vite",
    "cargo",
    "clippy",
    "serde",
    "sqlx",
    "reqwest",
    "hyper",
    "tower",
    "ollama",
    "llama",
    "vllm",
    "openai",
    "mlx",
    "kubernetes",
    "refactor",
    "partition",
    "rustfmt",
    "svelte",
    "meeting",
    "schedule",
    "invoice",
    "budget",
    "weekend",
];

/// English function words, to make English sentences read as sentences.
const ENGLISH_GLUE: &[&str] = &[
    "the", "a", "in", "on", "for", "with", "to", "and", "after", "before", "is", "was", "not",
];

/// Nouns that take 하다 (정리하다), conjugated with the endings below.
const HADA_NOUNS: &[&str] = &[
    "정리", "확인", "검토", "배포", "설정", "수정", "변경", "추가", "기록", "연락", "준비", "진행",
    "완료", "요청", "발표", "학습", "번역", "요약", "승인", "삭제", "검색", "작업", "계획", "운동",
    "여행", "운전", "주차", "출장",
];

/// Endings of 하다: sentence-final ones first.
const HADA_ENDINGS_FINAL: &[&str] = &["했다", "합니다", "해요", "했습니다", "한다"];
const HADA_ENDINGS_MEDIAL: &[&str] = &["하고", "해서", "하면", "할", "한", "하는", "하기"];

/// Native verbs: sentence-final forms, then connective and adnominal forms.
const VERBS: &[(&[&str], &[&str])] = &[
    (
        &["봤다", "봅니다", "봐요"],
        &["보고", "봐서", "보면", "볼", "본"],
    ),
    (
        &["갔다", "갑니다", "가요"],
        &["가고", "가서", "가면", "갈", "간"],
    ),
    (
        &["왔다", "옵니다", "와요"],
        &["오고", "와서", "오면", "올", "온"],
    ),
    (
        &["먹었다", "먹습니다"],
        &["먹고", "먹어서", "먹으면", "먹을", "먹은"],
    ),
    (
        &["만들었다", "만듭니다"],
        &["만들고", "만들어서", "만들면", "만든"],
    ),
    (
        &["썼다", "씁니다", "써요"],
        &["쓰고", "써서", "쓰면", "쓸", "쓴"],
    ),
    (
        &["읽었다", "읽습니다"],
        &["읽고", "읽어서", "읽으면", "읽은"],
    ),
    (
        &["찾았다", "찾습니다"],
        &["찾고", "찾아서", "찾으면", "찾은"],
    ),
    (
        &["고쳤다", "고칩니다"],
        &["고치고", "고쳐서", "고치면", "고친"],
    ),
    (
        &["바꿨다", "바꿉니다"],
        &["바꾸고", "바꿔서", "바꾸면", "바꾼"],
    ),
    (&["켰다", "켭니다"], &["켜고", "켜서", "켜면", "켠"]),
    (&["껐다", "끕니다"], &["끄고", "꺼서", "끄면", "끈"]),
    (
        &["느렸다", "느립니다"],
        &["느리고", "느려서", "느리면", "느린"],
    ),
    (
        &["빨랐다", "빠릅니다"],
        &["빠르고", "빨라서", "빠르면", "빠른"],
    ),
    (
        &["있다", "있습니다", "있어요"],
        &["있고", "있어서", "있으면", "있는"],
    ),
    (
        &["없다", "없습니다", "없어요"],
        &["없고", "없어서", "없으면", "없는"],
    ),
    (&["됐다", "됩니다", "돼요"], &["되고", "돼서", "되면", "된"]),
    (
        &["남겼다", "남깁니다"],
        &["남기고", "남겨서", "남기면", "남긴"],
    ),
];

const ADVERBS: &[&str] = &[
    "오늘",
    "내일",
    "어제",
    "다시",
    "먼저",
    "나중에",
    "빨리",
    "천천히",
    "아직",
    "이미",
    "모두",
    "조금",
    "많이",
    "그래서",
    "하지만",
    "그리고",
    "또",
    "꼭",
    "잠깐",
    "지금",
];

const COUNTERS: &[&str] = &["개", "번", "시", "분", "명", "일", "년", "월", "%", "초"];

/// A particle as (after a final consonant, after a vowel).
const PARTICLES: &[(&str, &str)] = &[
    ("을", "를"),
    ("이", "가"),
    ("은", "는"),
    ("과", "와"),
    ("으로", "로"),
    ("에", "에"),
    ("에서", "에서"),
    ("의", "의"),
    ("도", "도"),
    ("만", "만"),
    ("까지", "까지"),
    ("부터", "부터"),
    ("이랑", "랑"),
];

/// Syllables and fragments the long tail of the vocabulary is made from (names, places,
/// project and product names): real text has thousands of rare words, and without them the
/// listed words would be in nearly every document.
const TAIL_SYLLABLES: &[&str] = &[
    "가", "나", "다", "라", "마", "바", "사", "아", "자", "차", "카", "타", "파", "하", "민", "수",
    "지", "현", "영", "준", "서", "연", "진", "호", "성", "우", "재", "희", "동", "철", "경", "미",
    "상", "원", "태", "혜", "은", "정", "선", "주", "용", "한", "신", "윤", "김", "박", "최", "강",
    "조", "장", "임", "오", "유", "전", "문", "손", "백", "송", "홍", "남",
];
const TAIL_FRAGMENTS: &[&str] = &[
    "zor", "vik", "tel", "mar", "quin", "dra", "lux", "pen", "rho", "sil", "van", "kes", "tor",
    "bel", "nim", "fax", "gro", "hul", "jet", "kip", "lo", "ra", "ne", "tu",
];

/// Generated tail words per vocabulary.
const KOREAN_TAIL_WORDS: usize = 3_000;
const ENGLISH_TAIL_WORDS: usize = 1_500;
/// Share of draws that come from the tail: rare names are a real part of real notes.
const TAIL_SHARE: f64 = 0.25;
/// Zipf–Mandelbrot offset: flattens the head as function words would in real text (they are
/// not in these lists), so the most frequent noun is in about a quarter of the documents and
/// the rarest listed one in a few percent; tail words go down to a few in 10,000.
const ZIPF_OFFSET: f64 = 30.0;
/// Seed of the tail generator; fixed, so the vocabulary is the same for every corpus seed.
const TAIL_SEED: u64 = 0x7461_696C;

/// Weighted sampling by rank: weight 1/(rank + 1 + ZIPF_OFFSET).
struct ZipfTable {
    cumulative: Vec<f64>,
}

impl ZipfTable {
    fn new(len: usize) -> Self {
        let mut total = 0.0;
        let cumulative = (0..len)
            .map(|rank| {
                total += 1.0 / (rank as f64 + 1.0 + ZIPF_OFFSET);
                total
            })
            .collect();
        Self { cumulative }
    }

    fn sample(&self, rng: &mut impl Rng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let target = rng.random::<f64>() * total;
        self.cumulative
            .partition_point(|&c| c <= target)
            .min(self.cumulative.len() - 1)
    }
}

/// Words in rank order — the listed ones, then the generated tail — with sampling tables.
struct Vocabulary {
    words: Vec<String>,
    listed: usize,
    head: ZipfTable,
    tail: ZipfTable,
}

impl Vocabulary {
    /// `listed` words, then `tail_len` words glued from 2–3 `parts`, none repeated.
    fn new(listed: &[&str], parts: &[&str], tail_len: usize, rng: &mut impl Rng) -> Self {
        let mut words: Vec<String> = listed.iter().map(|w| (*w).to_owned()).collect();
        let mut seen: std::collections::HashSet<String> = words.iter().cloned().collect();
        while words.len() < listed.len() + tail_len {
            let word: String = (0..rng.random_range(2..4))
                .map(|_| pick(parts, rng))
                .collect();
            if seen.insert(word.clone()) {
                words.push(word);
            }
        }
        Self {
            words,
            listed: listed.len(),
            head: ZipfTable::new(listed.len()),
            tail: ZipfTable::new(tail_len),
        }
    }

    fn sample(&self, rng: &mut impl Rng) -> &str {
        let rank = if rng.random_bool(TAIL_SHARE) {
            self.listed + self.tail.sample(rng)
        } else {
            self.head.sample(rng)
        };
        &self.words[rank]
    }

    /// `(rank, word)` of every word, in rank order.
    fn ranked(&self) -> impl Iterator<Item = (usize, &str)> {
        self.words.iter().map(String::as_str).enumerate()
    }
}

/// The corpus: a recipe, not the documents; documents are made on demand.
pub struct Corpus {
    config: CorpusConfig,
    nouns: Vocabulary,
    english: Vocabulary,
}

impl Corpus {
    pub fn new(config: CorpusConfig) -> Self {
        let mut tail = ChaCha8Rng::seed_from_u64(TAIL_SEED);
        Self {
            config,
            nouns: Vocabulary::new(KOREAN_NOUNS, TAIL_SYLLABLES, KOREAN_TAIL_WORDS, &mut tail),
            english: Vocabulary::new(ENGLISH_WORDS, TAIL_FRAGMENTS, ENGLISH_TAIL_WORDS, &mut tail),
        }
    }

    pub fn config(&self) -> &CorpusConfig {
        &self.config
    }

    pub fn len(&self) -> usize {
        self.config.documents
    }

    pub fn is_empty(&self) -> bool {
        self.config.documents == 0
    }

    /// All documents, in order.
    pub fn documents(&self) -> impl Iterator<Item = GeneratedDocument> + '_ {
        (0..self.config.documents).map(|index| self.document(index))
    }

    /// Document `index`, from its own random stream.
    pub fn document(&self, index: usize) -> GeneratedDocument {
        let mut rng = ChaCha8Rng::seed_from_u64(self.config.seed);
        rng.set_stream(index as u64);
        // How Korean this document is: most notes are mostly Korean, some mostly English.
        let korean_share = match rng.random_range(0..20) {
            0..10 => 0.9,
            10..17 => 0.7,
            _ => 0.25,
        };
        let title = self.title(&mut rng);
        let mut body = String::with_capacity(self.config.body_bytes + 200);
        let mut paragraph_sentences = 0;
        while body.len() < self.config.body_bytes {
            if paragraph_sentences == 0 {
                if !body.is_empty() {
                    body.push_str("\n\n");
                }
                match rng.random_range(0..10) {
                    0 => {
                        body.push_str("## ");
                        body.push_str(&self.title(&mut rng));
                        body.push_str("\n\n");
                    }
                    1 => {
                        for _ in 0..rng.random_range(2..5) {
                            body.push_str("- ");
                            self.clause(&mut rng, korean_share, &mut body);
                            body.push('\n');
                        }
                        body.push('\n');
                    }
                    _ => {}
                }
                paragraph_sentences = rng.random_range(2..6);
            } else {
                body.push(' ');
            }
            if rng.random_bool(korean_share) {
                self.korean_sentence(&mut rng, &mut body);
            } else {
                self.english_sentence(&mut rng, &mut body);
            }
            paragraph_sentences -= 1;
        }
        GeneratedDocument { index, title, body }
    }

    fn noun(&self, rng: &mut impl Rng) -> &str {
        self.nouns.sample(rng)
    }

    fn english_word(&self, rng: &mut impl Rng) -> &str {
        self.english.sample(rng)
    }

    fn title(&self, rng: &mut impl Rng) -> String {
        let words = rng.random_range(2..5);
        let mut title = String::new();
        for i in 0..words {
            if i > 0 {
                title.push(' ');
            }
            if rng.random_bool(0.3) {
                title.push_str(&capitalized(self.english_word(rng), rng));
            } else {
                title.push_str(self.noun(rng));
            }
        }
        title
    }

    /// A verbless fragment, for list items.
    fn clause(&self, rng: &mut impl Rng, korean_share: f64, out: &mut String) {
        for i in 0..rng.random_range(2..5) {
            if i > 0 {
                out.push(' ');
            }
            if rng.random_bool(korean_share) {
                push_with_particle(out, self.noun(rng), rng);
            } else {
                out.push_str(self.english_word(rng));
            }
        }
    }

    fn korean_sentence(&self, rng: &mut impl Rng, out: &mut String) {
        let eojeols = rng.random_range(3..9);
        for i in 0..eojeols {
            if i > 0 {
                out.push(' ');
            }
            match rng.random_range(0..100) {
                0..50 => push_with_particle(out, self.noun(rng), rng),
                50..62 => {
                    let word = self.english_word(rng);
                    if rng.random_bool(0.5) {
                        push_with_particle(out, &capitalized(word, rng), rng);
                    } else {
                        out.push_str(word);
                    }
                }
                62..70 => push_number(out, rng),
                70..78 => out.push_str(pick(ADVERBS, rng)),
                78..88 => {
                    out.push_str(pick(HADA_NOUNS, rng));
                    out.push_str(pick(HADA_ENDINGS_MEDIAL, rng));
                }
                _ => out.push_str(pick(pick(VERBS, rng).1, rng)),
            }
        }
        out.push(' ');
        if rng.random_bool(0.5) {
            out.push_str(pick(HADA_NOUNS, rng));
            out.push_str(pick(HADA_ENDINGS_FINAL, rng));
        } else {
            out.push_str(pick(pick(VERBS, rng).0, rng));
        }
        out.push('.');
    }

    fn english_sentence(&self, rng: &mut impl Rng, out: &mut String) {
        let words = rng.random_range(5..13);
        for i in 0..words {
            if i > 0 {
                out.push(' ');
            }
            match rng.random_range(0..10) {
                0..3 => out.push_str(pick(ENGLISH_GLUE, rng)),
                3 => push_number(out, rng),
                _ if i == 0 => out.push_str(&capitalized(self.english_word(rng), rng)),
                _ => out.push_str(self.english_word(rng)),
            }
        }
        out.push('.');
    }

    /// `per_class` queries of every class, words picked at ranks spread geometrically from the
    /// most frequent to the rarest, so each class has head, middle and tail words. Tail words
    /// (generated names) supply the rare end of every class but the one-syllable one.
    pub fn queries(&self, per_class: usize) -> Vec<BenchQuery> {
        let korean = |syllables: &dyn Fn(usize) -> bool| -> Vec<(usize, String)> {
            self.nouns
                .ranked()
                .filter(|(_, w)| syllables(w.chars().count()))
                .map(|(rank, w)| (rank, w.to_owned()))
                .collect()
        };
        let one = korean(&|n| n == 1);
        let two = korean(&|n| n == 2);
        let more = korean(&|n| n >= 3);
        let english: Vec<(usize, String)> = self
            .english
            .ranked()
            .map(|(rank, w)| (rank, w.to_owned()))
            .collect();
        let mut queries = Vec::new();
        for (class, words) in [
            (QueryClass::KoreanOneSyllable, &one),
            (QueryClass::KoreanTwoSyllables, &two),
            (QueryClass::KoreanThreePlusSyllables, &more),
            (QueryClass::English, &english),
        ] {
            for index in spread(words.len(), per_class) {
                let (rank, word) = &words[index];
                queries.push(BenchQuery {
                    class,
                    text: word.clone(),
                    vocabulary_rank: *rank,
                });
            }
        }
        // Mixed: an English word with a two-syllable Korean word, frequencies crossed so that
        // a frequent word is paired with a rare one and vice versa.
        let english_picks = spread(english.len(), per_class);
        let korean_picks = spread(two.len(), per_class);
        for (english_index, korean_index) in english_picks.iter().zip(korean_picks.iter().rev()) {
            let (english_rank, english_word) = &english[*english_index];
            let (korean_rank, korean_word) = &two[*korean_index];
            queries.push(BenchQuery {
                class: QueryClass::Mixed,
                text: format!("{english_word} {korean_word}"),
                vocabulary_rank: *english_rank.max(korean_rank),
            });
        }
        queries
    }
}

/// `count` distinct indices into `0..len`, geometrically spaced from 0 to `len - 1`.
fn spread(len: usize, count: usize) -> Vec<usize> {
    if len == 0 || count == 0 {
        return Vec::new();
    }
    let count = count.min(len);
    let mut picks: Vec<usize> = (0..count)
        .map(|k| {
            if count == 1 {
                return 0;
            }
            let fraction = k as f64 / (count - 1) as f64;
            ((len as f64).powf(fraction) - 1.0).round() as usize
        })
        .collect();
    // Geometric spacing crowds the head; push collisions forward to keep picks distinct.
    for i in 1..picks.len() {
        if picks[i] <= picks[i - 1] {
            picks[i] = picks[i - 1] + 1;
        }
    }
    let overflow = picks
        .last()
        .map_or(0, |&last| (last + 1).saturating_sub(len));
    for pick in &mut picks {
        *pick = pick.saturating_sub(overflow);
    }
    picks.dedup();
    picks
}

fn pick<T: Copy>(items: &[T], rng: &mut impl Rng) -> T {
    items[rng.random_range(0..items.len())]
}

fn capitalized(word: &str, rng: &mut impl Rng) -> String {
    match rng.random_range(0..10) {
        0 => word.to_uppercase(),
        1..4 => {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect()
            })
        }
        _ => word.to_owned(),
    }
}

/// Whether a word ends in a sound that takes the consonant form of a particle (책을, not
/// 책를). For Hangul that is a final consonant; Latin words are guessed from the last letter.
fn ends_in_consonant(word: &str) -> bool {
    match word.chars().next_back() {
        Some(c @ '가'..='힣') => !(c as u32 - 0xAC00).is_multiple_of(28),
        Some(c) if c.is_ascii_alphabetic() => !"aeiouyAEIOUY".contains(c),
        Some(c) if c.is_ascii_digit() => "013678".contains(c),
        _ => false,
    }
}

fn push_with_particle(out: &mut String, word: &str, rng: &mut impl Rng) {
    out.push_str(word);
    if rng.random_bool(0.8) {
        let (after_consonant, after_vowel) = pick(PARTICLES, rng);
        // 으로 after ㄹ is 로 (서울로), the one irregular particle worth getting right.
        let final_rieul = word
            .chars()
            .next_back()
            .is_some_and(|c| ('가'..='힣').contains(&c) && (c as u32 - 0xAC00) % 28 == 8);
        let particle = if ends_in_consonant(word) && !(final_rieul && after_vowel == "로") {
            after_consonant
        } else {
            after_vowel
        };
        out.push_str(particle);
    }
}

fn push_number(out: &mut String, rng: &mut impl Rng) {
    match rng.random_range(0..4) {
        0 => out.push_str(&format!(
            "2024-{:02}-{:02}",
            rng.random_range(1..13),
            rng.random_range(1..29)
        )),
        1 => out.push_str(&format!(
            "v{}.{}",
            rng.random_range(0..4),
            rng.random_range(0..20)
        )),
        _ => {
            out.push_str(&rng.random_range(1..100).to_string());
            out.push_str(pick(COUNTERS, rng));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Corpus {
        Corpus::new(CorpusConfig {
            documents: 1_000,
            ..CorpusConfig::default()
        })
    }

    #[test]
    fn documents_are_deterministic_and_independent_of_order() {
        let corpus = small();
        let forward: Vec<GeneratedDocument> = corpus.documents().collect();
        assert_eq!(corpus.document(123), forward[123]);
        assert_ne!(forward[1], forward[2]);
        let other_seed = Corpus::new(CorpusConfig {
            seed: 7,
            ..corpus.config().clone()
        });
        assert_ne!(other_seed.document(0), forward[0]);
    }

    /// The benchmark's figures are comparable across commits only while the corpus stays
    /// the same. If this fails, the generator or a word list changed: update the fingerprint
    /// on purpose and say so in the commit.
    #[test]
    fn the_corpus_fingerprint_is_stable() {
        let corpus = small();
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for document in corpus.documents().take(20) {
            for byte in document.title.bytes().chain(document.body.bytes()) {
                hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
            }
        }
        assert_eq!(hash, FINGERPRINT, "corpus changed: got {hash:#x}");
    }

    const FINGERPRINT: u64 = 0x8842_e994_84c5_5735;

    #[test]
    fn bodies_are_about_a_kilobyte_of_mixed_korean_and_english() {
        let corpus = small();
        let mut hangul = 0usize;
        let mut latin = 0usize;
        for document in corpus.documents() {
            assert!(
                (1024..1400).contains(&document.body.len()),
                "{}",
                document.body.len()
            );
            assert!(!document.title.is_empty());
            for c in document.body.chars() {
                if ('가'..='힣').contains(&c) {
                    hangul += 1;
                } else if c.is_ascii_alphabetic() {
                    latin += 1;
                }
            }
        }
        assert!(
            hangul > latin / 2 && latin > hangul / 10,
            "{hangul} vs {latin}"
        );
    }

    #[test]
    fn particles_follow_the_final_consonant() {
        let corpus = small();
        let text: String = corpus.documents().map(|d| d.body).collect();
        assert!(text.contains("서버를") || text.contains("서버가"));
        assert!(!text.contains("서버을") && !text.contains("책를") && !text.contains("일를"));
    }

    #[test]
    fn queries_cover_every_class_with_common_and_rare_words() {
        let corpus = small();
        let queries = corpus.queries(6);
        for class in QueryClass::ALL {
            let of_class: Vec<&BenchQuery> = queries.iter().filter(|q| q.class == class).collect();
            assert_eq!(of_class.len(), 6, "{class:?}");
            let ranks: Vec<usize> = of_class.iter().map(|q| q.vocabulary_rank).collect();
            // A mixed query's rank is its rarer word's, and frequent words are paired with rare
            // ones, so only single-word classes must reach the head.
            if class != QueryClass::Mixed {
                assert!(ranks.iter().min() < Some(&10), "{class:?} {ranks:?}");
            }
            assert!(ranks.iter().max() > Some(&40), "{class:?} {ranks:?}");
        }
        let syllables = |q: &BenchQuery| q.text.chars().count();
        for query in &queries {
            match query.class {
                QueryClass::KoreanOneSyllable => assert_eq!(syllables(query), 1),
                QueryClass::KoreanTwoSyllables => assert_eq!(syllables(query), 2),
                QueryClass::KoreanThreePlusSyllables => assert!(syllables(query) >= 3),
                QueryClass::English => assert!(query.text.is_ascii()),
                QueryClass::Mixed => assert!(query.text.contains(' ')),
            }
        }
        // Frequent words are in many documents, rare ones in few but usually some.
        let bodies: Vec<String> = corpus.documents().map(|d| d.body).collect();
        let containing = |word: &str| bodies.iter().filter(|b| b.contains(word)).count();
        let two: Vec<&BenchQuery> = queries
            .iter()
            .filter(|q| q.class == QueryClass::KoreanTwoSyllables)
            .collect();
        assert!(containing(&two[0].text) > containing(&two[5].text) * 3);
    }

    #[test]
    #[ignore = "prints a sample for eyeballing"]
    fn print_a_sample() {
        let corpus = small();
        for document in corpus.documents().take(2) {
            println!("# {}\n{}\n", document.title, document.body);
        }
        let bodies: Vec<String> = corpus.documents().map(|d| d.body).collect();
        for query in corpus.queries(6) {
            let containing = bodies
                .iter()
                .filter(|b| query.text.split(' ').all(|w| b.contains(w)))
                .count();
            println!(
                "{:?} {:?} rank {} in {:.1}% of documents",
                query.class,
                query.text,
                query.vocabulary_rank,
                100.0 * containing as f64 / bodies.len() as f64
            );
        }
    }

    #[test]
    fn word_lists_have_no_duplicates() {
        for list in [KOREAN_NOUNS, ENGLISH_WORDS, HADA_NOUNS, ADVERBS] {
            let mut sorted = list.to_vec();
            sorted.sort_unstable();
            let before = sorted.len();
            sorted.dedup();
            assert_eq!(sorted.len(), before, "duplicate in {:?}", &list[..3]);
        }
    }

    #[test]
    fn spread_is_distinct_sorted_and_reaches_both_ends() {
        assert_eq!(spread(100, 3), [0, 9, 99]);
        assert_eq!(spread(5, 5), [0, 1, 2, 3, 4]);
        assert_eq!(spread(3, 8), [0, 1, 2]);
        let picks = spread(40, 6);
        assert!(picks.windows(2).all(|w| w[0] < w[1]));
        assert_eq!((picks[0], picks[5]), (0, 39));
    }
}
