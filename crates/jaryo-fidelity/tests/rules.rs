//! Behaviour of each rule through the public API, in Korean and English, including the
//! reformattings that must *not* be flagged.

use jaryo_fidelity::{CHECKER_VERSION, FidelityConfig, FidelityReport, FindingKind, check};
use unicode_normalization::UnicodeNormalization;

fn report(source: &str, draft: &str) -> FidelityReport {
    check(source, draft, &FidelityConfig::default())
}

/// `(kind, text)` of every finding.
fn findings(source: &str, draft: &str) -> Vec<(FindingKind, String)> {
    report(source, draft)
        .findings
        .into_iter()
        .map(|finding| (finding.kind, finding.text))
        .collect()
}

fn assert_clean(source: &str, draft: &str) {
    let found = findings(source, draft);
    assert!(
        found.is_empty(),
        "expected no findings for {draft:?}, got {found:?}"
    );
}

fn flagged(kind: FindingKind, text: &str) -> (FindingKind, String) {
    (kind, text.to_owned())
}

mod numbers {
    use super::*;

    #[test]
    fn a_new_amount_is_flagged_with_its_span() {
        let draft = "# 점심 회식\n\n- 금액: 45,000원";
        let report = report("점심 회식 다녀옴", draft);
        assert_eq!(report.findings.len(), 1);
        let finding = &report.findings[0];
        assert_eq!(finding.kind, FindingKind::Number);
        assert_eq!(finding.text, "45,000원");
        assert_eq!(&draft[finding.start..finding.end], "45,000원");
    }

    #[test]
    fn thousands_written_three_ways_are_one_number() {
        assert_clean("커피 1000원", "- 커피: 1,000원");
        assert_clean("커피 천 원", "- 커피: 1,000원");
        assert_clean("coffee 1,000 won", "Coffee: 1000 won");
        assert_clean("budget 1.5k", "Budget: $1,500");
    }

    #[test]
    fn korean_units_equal_their_digits() {
        assert_clean("회비 30,000원", "# 회비\n\n- 3만 원");
        assert_clean("회비 3만 원", "# 회비\n\n- 30,000원");
        assert_clean("노트북 거치대 3만 9천원", "- 노트북 거치대: 39,000원");
        assert_clean("예산 1억 2천만 원", "- 예산: 120,000,000원");
        assert_clean("헬스장 3개월 27만원", "# 헬스장\n\n- 3개월: ₩270,000");
    }

    #[test]
    fn number_words_equal_their_digits() {
        assert_clean("need two volunteers", "Need 2 volunteers.");
        assert_clean("참석 두 명", "- 참석: 2명");
        assert_clean("eggs (dozen)", "- Eggs: 12");
    }

    #[test]
    fn a_changed_amount_is_flagged() {
        assert_eq!(
            findings("회비 3만 원", "- 회비: 4만 원"),
            // A changed amount is new, and the memo's amount is lost.
            [
                flagged(FindingKind::Dropped, "3만 원"),
                flagged(FindingKind::Number, "4만 원")
            ]
        );
        assert_eq!(
            findings("venue $1,200", "Venue: $1,250"),
            [
                flagged(FindingKind::Dropped, "$1,200"),
                flagged(FindingKind::Number, "$1,250")
            ]
        );
    }

    #[test]
    fn list_numbering_is_not_a_number() {
        assert_clean(
            "groceries: milk, eggs, bread",
            "# Groceries\n\n1. Milk\n2. Eggs\n3. Bread\n",
        );
        assert_clean(
            "장보기: 우유 계란 빵",
            "## 1. 장보기\n1) 우유\n2) 계란\n3) 빵",
        );
    }

    #[test]
    fn a_sum_the_memo_never_states_is_flagged() {
        assert_eq!(
            findings(
                "netflix 15.49, gym 45",
                "- Netflix: $15.49\n- Gym: $45\n- Total: $60.49"
            ),
            [flagged(FindingKind::Number, "$60.49")]
        );
    }

    #[test]
    fn ip_addresses_and_versions_are_compared_as_written() {
        assert_clean("router at 192.168.1.1", "Router: 192.168.1.1");
        assert_eq!(
            findings("upgrade nginx", "Upgrade nginx to 1.24.0"),
            [flagged(FindingKind::Number, "1.24.0")]
        );
    }
}

mod dates_and_times {
    use super::*;

    #[test]
    fn a_rewritten_date_is_the_same_date() {
        assert_clean("3/5 치과", "# 치과\n\n- 3월 5일");
        assert_clean("치과 3월 5일", "Dentist: March 5");
        assert_clean("2024년 3월 5일 결혼식", "- 일시: 2024-03-05");
        assert_clean("due 2024-03-05", "Due: March 5, 2024");
        assert_clean("전세 만료 2025.08.31", "- 만료: 2025년 8월 31일");
    }

    #[test]
    fn a_changed_or_invented_date_is_flagged() {
        assert_eq!(
            findings("3월 5일 치과", "- 치과: 3월 6일"),
            [
                flagged(FindingKind::Dropped, "3월 5일"),
                flagged(FindingKind::DateTime, "3월 6일")
            ]
        );
        assert_eq!(
            findings("design sync next time", "Next sync on March 12."),
            [flagged(FindingKind::DateTime, "March 12")]
        );
    }

    #[test]
    fn a_year_the_memo_does_not_give_is_flagged() {
        assert_eq!(
            findings("3/5 회의", "- 회의: 2024-03-05"),
            [flagged(FindingKind::DateTime, "2024-03-05")]
        );
        assert_clean("2024년 계획: 3/5 회의", "- 회의: 2024-03-05");
    }

    #[test]
    fn times_match_across_notations() {
        assert_clean("회의 오후 3시", "- 회의: 15:00");
        assert_clean("회의 3시", "- 회의: 15:00");
        assert_clean("meeting 3pm", "Meeting: 3:00 PM");
        assert_clean("dinner 7pm", "- 저녁: 오후 7시");
        assert_clean("점심 12시 30분", "- 점심: 12:30");
    }

    #[test]
    fn a_changed_or_invented_time_is_flagged() {
        assert_eq!(
            findings("회의 오후 3시", "- 회의: 오전 3시"),
            [
                flagged(FindingKind::Dropped, "오후 3시"),
                flagged(FindingKind::DateTime, "오전 3시")
            ]
        );
        assert_eq!(
            findings("주간보고 작성", "- 오전 9시: 주간보고 작성"),
            [flagged(FindingKind::DateTime, "오전 9시")]
        );
    }

    #[test]
    fn weekdays_need_support() {
        assert_clean("dentist mon 8:30am", "- Monday: dentist at 8:30 AM");
        assert_clean("화분 물주기 (월, 목)", "- 화분 물 주기: 월요일, 목요일");
        assert_eq!(
            findings("team lunch", "Team lunch on Thursday"),
            [flagged(FindingKind::DateTime, "Thursday")]
        );
    }

    #[test]
    fn durations_are_numbers_not_times() {
        assert_clean("3시간 걸림", "- 소요: 3시간");
    }
}

mod addresses {
    use super::*;

    #[test]
    fn a_new_url_is_flagged_but_a_reformatted_one_is_not() {
        assert_eq!(
            findings(
                "가계부 앱 아이디어",
                "- 참고: https://github.com/tesseract-ocr/tesseract"
            ),
            [flagged(
                FindingKind::Url,
                "https://github.com/tesseract-ocr/tesseract"
            )]
        );
        assert_clean(
            "docs at jaryo.dev/guide",
            "See [the docs](https://jaryo.dev/guide/).",
        );
        assert_clean(
            "https://blog.rust-lang.org/2024/ 러스트 블로그",
            "- [러스트 블로그](https://blog.rust-lang.org/2024/)",
        );
    }

    #[test]
    fn a_new_email_is_flagged_but_case_does_not_matter() {
        assert_eq!(
            findings(
                "renew jaryo.dev",
                "Renew jaryo.dev; contact admin@jaryo.dev."
            ),
            [flagged(FindingKind::Email, "admin@jaryo.dev")]
        );
        assert_clean(
            "mail SJLee@DentalCare.co.kr",
            "- 메일: sjlee@dentalcare.co.kr",
        );
    }

    #[test]
    fn a_new_phone_is_flagged_but_its_format_does_not_matter() {
        assert_eq!(
            findings("plumber tues", "Plumber on Tuesday: (555) 284-1937"),
            [flagged(FindingKind::Phone, "(555) 284-1937")]
        );
        assert_clean("기사님 연락처 010-2345-6789", "- 연락처: +82 10-2345-6789");
    }
}

mod terms {
    use super::*;

    #[test]
    fn an_invented_latin_name_is_flagged() {
        assert_eq!(
            findings(
                "strong on distributed systems",
                "Strong on distributed systems, with experience at Stripe."
            ),
            [flagged(FindingKind::Term, "Stripe")]
        );
    }

    #[test]
    fn a_capitalised_memo_word_is_not_a_name() {
        assert_clean("review budget with legal", "Review the budget with Legal.");
        assert_clean("db migration blocked", "DB migration: blocked");
        assert_clean("postgres upgrade", "PostgreSQL Upgrade");
    }

    #[test]
    fn function_words_never_count() {
        assert_clean(
            "budget review",
            "The Budget Review: This Is What We Will Do",
        );
    }

    #[test]
    fn a_heading_from_the_memos_own_words_is_not_flagged() {
        assert_clean(
            "car service done. oil change $89",
            "# Car Service\n\n- Oil change: $89",
        );
        assert_clean(
            "주간회의 메모: 온보딩 플로우 3월 말까지 마무리",
            "# 주간회의 메모\n\n## 온보딩 플로우\n- 3월 말까지 마무리",
        );
    }

    #[test]
    fn a_particle_or_ending_added_to_a_korean_word_is_not_flagged() {
        assert_clean("서버 점검 필요", "서버를 점검해야 합니다.");
        assert_clean("디스크 정리", "디스크에서는 정리가 필요합니다.");
        assert_clean("설정 바꾸기", "설정을 바꿨습니다.");
        assert_clean("서버 점검", "서버점검 완료");
    }

    #[test]
    fn an_invented_korean_name_is_flagged() {
        assert_eq!(
            findings("수정본 전달하기", "- 수정본을 이지은 님에게 전달하기"),
            [flagged(FindingKind::Term, "이지은")]
        );
    }

    #[test]
    fn field_labels_are_structure_not_terms() {
        assert_clean("서울역 8:00 출발", "- **교통**: 서울역 8:00 출발");
        assert_clean(
            "somewhere near the office",
            "- Location: somewhere near the office",
        );
    }

    #[test]
    fn terms_can_be_switched_off_or_ignored() {
        let config = FidelityConfig {
            check_terms: false,
            ..FidelityConfig::default()
        };
        assert!(check("a memo", "Ask Stripe", &config).findings.is_empty());
        let config = FidelityConfig {
            ignored_terms: vec!["stripe".to_owned()],
            ..FidelityConfig::default()
        };
        assert!(check("a memo", "Ask Stripe", &config).findings.is_empty());
    }
}

mod markdown {
    use super::*;

    #[test]
    fn markdown_syntax_is_never_a_finding() {
        let source = "rotate api keys: generate new key in vault, update BILLING_API_KEY, check https://status.example.com";
        let draft = "\
# Rotate API Keys

> **Note**: follow the order.

| Key | Where |
| --- | :---: |
| new key | Vault |

1. Generate a *new* key in __Vault__.
2. Update `BILLING_API_KEY`.
- [ ] Check [status](https://status.example.com)

```
update BILLING_API_KEY
```
---
";
        assert_clean(source, draft);
    }
}

mod language {
    use super::*;

    #[test]
    fn a_korean_memo_answered_in_english_is_one_document_finding() {
        let draft = "# Tomorrow's To-Do\n\n- Issue the tax invoice\n- Send the quote to the client\n- Dentist appointment in the afternoon";
        let report = report(
            "내일 할 일: 세금계산서 발행, 거래처에 견적서 보내기, 오후에 치과",
            draft,
        );
        assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
        let finding = &report.findings[0];
        assert_eq!(finding.kind, FindingKind::LanguageDrift);
        assert_eq!((finding.start, finding.end), (0, draft.len()));
        assert!(report.has_language_drift());
    }

    #[test]
    fn an_english_memo_answered_in_korean_drifts_and_numbers_are_still_checked() {
        let found = findings(
            "remember to renew passport before june, fee is $130",
            "# 여권 갱신\n\n- 6월 전에 여권을 갱신하기\n- 수수료: $150",
        );
        assert_eq!(
            found,
            [
                flagged(FindingKind::LanguageDrift, &found[0].1),
                flagged(FindingKind::Dropped, "$130"),
                flagged(FindingKind::Number, "$150"),
            ]
        );
    }

    #[test]
    fn a_korean_memo_full_of_english_terms_does_not_drift() {
        assert_clean(
            "k8s 클러스터 업그레이드 먼저 staging에서 테스트, 문제 없으면 금요일 prod 적용",
            "# k8s 클러스터 업그레이드\n\n1. staging에서 먼저 테스트합니다.\n2. 문제가 없으면 금요일에 prod에 적용합니다.",
        );
    }

    #[test]
    fn code_urls_and_short_texts_are_not_judged() {
        let short = report("치과", "Dentist");
        assert!(!short.has_language_drift(), "{:?}", short.findings);
        assert_clean(
            "서버 설정 파일 변경 후 재시작 필요",
            "# 서버 설정 파일 변경\n\n```\nsystemctl restart nginx && journalctl -u nginx --since today\n```\n- 재시작 필요",
        );
    }
}

mod length {
    use super::*;

    #[test]
    fn a_short_memo_may_become_a_structured_document() {
        // 25 characters in, about 120 out: headings and labels are not padding.
        assert_clean(
            "장보기 우유 2개 계란 한 판 양파 세탁소 들러서 코트 찾기",
            "# 할 일\n\n## 장보기\n- 우유 2개\n- 계란 한 판\n- 양파\n\n## 기타\n- 세탁소에 들러서 코트 찾기\n",
        );
    }

    #[test]
    fn a_padded_draft_is_flagged_and_the_bound_is_configurable() {
        let source = "meeting notes: budget ok";
        let padding = "the budget is ok and the meeting notes say so. ".repeat(12);
        let draft = format!("# Meeting Notes\n\n{padding}");
        let report = check(source, &draft, &FidelityConfig::default());
        assert!(report.is_too_long(), "{:?}", report.findings);
        let finding = report
            .findings
            .iter()
            .find(|f| f.kind == FindingKind::LengthRatio)
            .unwrap();
        assert_eq!((finding.start, finding.end), (0, draft.len()));

        let lenient = FidelityConfig {
            max_length_ratio: 100.0,
            ..FidelityConfig::default()
        };
        assert!(!check(source, &draft, &lenient).is_too_long());
    }
}

mod normalisation {
    use super::*;

    #[test]
    fn an_nfd_source_matches_an_nfc_draft() {
        let source: String = "회의실 예약: 금요일 3시, 10명, 김민수".nfd().collect();
        assert_clean(&source, "# 회의실 예약\n\n- 금요일 3시\n- 10명\n- 김민수");
    }

    #[test]
    fn offsets_point_into_an_nfd_draft_as_given() {
        let draft: String = "# 회의\n\n- 박지훈 참석, 3만 원".nfd().collect();
        let report = report("회의 참석", &draft);
        let texts: Vec<&str> = report.findings.iter().map(|f| f.text.as_str()).collect();
        let expected: Vec<String> = ["박지훈", "3만 원"]
            .iter()
            .map(|t| t.nfd().collect())
            .collect();
        assert_eq!(texts, expected);
        for finding in &report.findings {
            assert!(draft.is_char_boundary(finding.start) && draft.is_char_boundary(finding.end));
            assert_eq!(&draft[finding.start..finding.end], finding.text);
        }
    }
}

mod report_shape {
    use super::*;

    #[test]
    fn the_report_is_stamped_sorted_and_lists_items_for_a_redraft() {
        let report = report(
            "design sync: onboarding screens look good",
            "# Design Sync\n\n- Onboarding screens look good (Rachel Kim, March 12).\n- Rachel Kim owns the copy.",
        );
        assert_eq!(report.checker_version, CHECKER_VERSION);
        assert!(report.flagged && report.needs_attention());
        let starts: Vec<usize> = report.findings.iter().map(|f| f.start).collect();
        assert!(starts.is_sorted());
        let items: Vec<&str> = report.unsupported_items().iter().map(|i| i.text).collect();
        assert_eq!(items, ["Rachel", "Kim", "March 12"]);
    }

    #[test]
    fn a_faithful_draft_needs_no_attention() {
        let report = report("call mom", "# Call Mom");
        assert!(!report.flagged && !report.needs_attention());
        assert_eq!(
            report.severity(),
            FidelityReport::new(Vec::new()).severity()
        );
    }

    #[test]
    fn the_json_shape_is_stable() {
        let report = report("a memo about lunch", "Lunch at 1pm");
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "checker_version": CHECKER_VERSION,
                "flagged": true,
                "findings": [
                    {"kind": "date_time", "text": "1pm", "start": 9, "end": 12}
                ]
            })
        );
    }
}

mod coverage {
    use super::*;

    fn dropped(source: &str, draft: &str) -> Vec<String> {
        report(source, draft)
            .findings
            .into_iter()
            .filter(|f| f.kind == FindingKind::Dropped)
            .map(|f| f.text)
            .collect()
    }

    fn has_coverage_finding(source: &str, draft: &str) -> bool {
        report(source, draft)
            .findings
            .iter()
            .any(|f| f.kind == FindingKind::Coverage)
    }

    #[test]
    fn a_draft_that_keeps_nothing_of_the_memo_is_flagged() {
        let memo =
            "Weekly sync: ship the backup script by Friday; Alice owns the restore test #ops";
        let draft = "The note has been edited. The rules are still intact, and the note can be edited as needed.";
        let report = report(memo, draft);
        assert!(report.flagged && report.drops_content());
        let dropped: Vec<&str> = report.dropped_items().iter().map(|i| i.text).collect();
        assert_eq!(dropped, ["Friday", "Alice"]);
        let coverage = report
            .findings
            .iter()
            .find(|f| f.kind == FindingKind::Coverage)
            .expect("most content lost");
        assert!(coverage.text.contains("backup"), "{}", coverage.text);
        assert_eq!((coverage.start, coverage.end), (0, draft.len()));
    }

    #[test]
    fn each_lost_fact_is_named_once() {
        assert_eq!(
            dropped(
                "dentist appt tue 3:30pm, Dr. Okafor, bring insurance card, copay $25",
                "# Dentist appointment\n\n- Tuesday\n- Bring the insurance card\n- Copay"
            ),
            ["3:30pm", "Okafor", "$25"]
        );
        assert_eq!(
            dropped(
                "엄마 병원 예약 3월 12일 오후 2시 30분, 서울대병원 2층",
                "# 병원 예약\n\n- 엄마 병원 예약: 3월 12일\n- 서울대병원"
            ),
            ["오후 2시 30분", "2층"]
        );
    }

    #[test]
    fn reformatted_facts_are_kept() {
        assert_clean(
            "call Jake at 3pm about invoice 4471, $1,280 due nov 30",
            "# Call Jake\n\n- When: 15:00\n- Invoice 4471: $1280 due November 30",
        );
        assert_clean(
            "회의 3시, 예산 3만 원, 금요일 배포",
            "# 회의\n\n- 시간: 오후 3시\n- 예산: 30,000원\n- 배포: 금요일",
        );
    }

    #[test]
    fn korean_words_are_kept_by_their_stems() {
        // 예산을 → 예산, 검토하고 → 검토, 보내기 → 보내: particles and endings do not count.
        assert_clean(
            "다음 주 월요일까지 예산을 다시 검토하고 민지에게 보내기",
            "# 예산 검토\n\n- 다음 주 월요일까지 다시 검토\n- 민지에게 전달: 예산 검토 결과 보내기",
        );
        assert!(has_coverage_finding(
            "다음 주 월요일까지 예산을 다시 검토하고 민지에게 보내기, 총액 넘지 않게",
            "# 메모\n\n- 월요일"
        ));
    }

    #[test]
    fn a_korean_name_the_memo_marks_as_a_person_is_a_fact() {
        // A person particle (에게) or a role word before it (담당, 발표는, 상담원) marks a name.
        assert_eq!(
            dropped(
                "다음 주 월요일까지 예산을 다시 검토하고 민지에게 보내기",
                "# 예산 검토\n\n- 다음 주 월요일까지 예산을 다시 검토하고 보내기"
            ),
            ["민지"]
        );
        assert_eq!(
            dropped(
                "배포 일정: 금요일 밤 10시 점검, 담당 준호, 롤백 스크립트 미리 테스트",
                "# 배포 일정\n\n- 금요일 밤 10시 점검\n- 롤백 스크립트 미리 테스트"
            ),
            ["준호"]
        );
        assert_eq!(
            dropped(
                "자동차 보험 만기 6월 3일, 상담원 김도윤 010-2345-6789",
                "# 자동차 보험\n\n- 만기: 6월 3일\n- 상담원 연락처: 010-2345-6789"
            ),
            ["김도윤"]
        );
        // Kept by its stem, with or without the particle.
        assert_clean(
            "다음 주 월요일까지 예산을 다시 검토하고 민지에게 보내기",
            "# 예산 검토\n\n- 다음 주 월요일까지 예산 다시 검토\n- 보낼 곳: 민지",
        );
        assert_clean(
            "스터디 발표는 서연, 러스트 소유권 챕터",
            "# 스터디\n\n- 발표: 서연이\n- 러스트 소유권 챕터",
        );
        // 함께 ends like 께 but names no one.
        assert!(dropped("민수와 함께 예산 회의 준비", "# 예산 회의\n\n- 민수와 준비").is_empty());
    }

    #[test]
    fn english_words_are_kept_across_case_and_inflection() {
        assert_clean(
            "Alice owns the restore tests, ship backups weekly",
            "# Restore\n\n- Owner: Alice\n- Restore test\n- Shipping weekly backup",
        );
    }

    #[test]
    fn structure_words_and_filler_may_go() {
        // "the", "please", "also", "note", "todo" are not content.
        assert_clean(
            "note: please also book the vet for Rex, todo",
            "# Vet\n\n- Book vet for Rex",
        );
    }

    #[test]
    fn a_name_that_starts_a_sentence_is_a_word_not_a_fact() {
        // "Weekly" starts the memo: losing it is not losing a name.
        assert!(dropped("Weekly sync with Bob on Friday", "# Sync\n\n- Bob, Friday").is_empty());
    }

    #[test]
    fn a_translated_draft_is_judged_by_its_facts_only() {
        let found = dropped(
            "내일 오후 3시에 민수와 예산 회의, 자료 3부 준비",
            "# Budget meeting\n\nTomorrow 3pm with Minsu; prepare 3 copies.",
        );
        assert!(found.is_empty(), "{found:?}");
    }
}
