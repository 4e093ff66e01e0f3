//! Import and export on each store: a real-shaped Obsidian vault goes in once (front matter
//! out of the text and kept, tags and dates applied, Korean and macOS-decomposed names),
//! again without adding anything, and a changed note is updated; an export is a folder of
//! Markdown with front matter, originals beside accepted drafts, private files.

use jaryo_domain::{ContentOrigin, Document};
use jaryo_exchange::{ImportOptions, ImportSummary, export_to_folder, import_folder};
use jaryo_store::{DocumentFilter, PageRequest, Store};
use jaryo_testkit::{Backend, TestApp};
use std::path::Path;
use std::time::{Duration, SystemTime};
use unicode_normalization::UnicodeNormalization;

const PATIENCE: Duration = Duration::from_secs(20);

fn write(root: &Path, relative: &str, text: &[u8]) {
    let path = root.join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A vault as Obsidian leaves it: settings folder, attachments, nested folders, front
/// matter of every shape, a name macOS wrote decomposed, and a few notes that cannot go in.
fn vault(root: &Path) {
    write(
        root,
        "회의/2026 예산 회의.md",
        "---\ntags: [회의, 예산/2026]\naliases:\n  - 예산 회의\ncreated: 2026-03-01 10:20\nupdated: 2026-03-02T09:00:00+09:00\nrating: 4\n---\n# 예산 회의\n\n[[기획 정리]] 참고. 총액 3억 원.\n\n![[diagram.png]]\n"
            .as_bytes(),
    );
    let decomposed: String = "회의/기획 정리.md".nfd().collect();
    write(
        root,
        &decomposed,
        "분기별 기획을 정리한다. #기획".as_bytes(),
    );
    write(
        root,
        "projects/alpha/plan.md",
        b"Ship the backup script by Friday.",
    );
    write(root, "notes.txt", b"plain text note about deploys");
    write(
        root,
        "broken front matter.md",
        b"---\n: bad\n  - [\n---\nthe words stay",
    );
    write(root, "empty.md", b"   \n");
    write(root, "latin1.md", b"caf\xe9 au lait");
    write(root, "attachments/diagram.png", b"\x89PNG\r\n");
    write(root, ".obsidian/workspace.md", b"not a note");
    // A note without dates in its front matter takes the file's own time.
    let old = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    std::fs::File::options()
        .write(true)
        .open(root.join("projects/alpha/plan.md"))
        .unwrap()
        .set_modified(old)
        .unwrap();
}

async fn import(store: &dyn Store, root: &Path, dry_run: bool) -> ImportSummary {
    import_folder(store, root, ImportOptions { dry_run }, &|_| {})
        .await
        .unwrap()
}

async fn documents(store: &dyn Store) -> Vec<Document> {
    store
        .list_documents(
            &DocumentFilter::default(),
            PageRequest::new(Some(200), None),
        )
        .await
        .unwrap()
        .items
}

fn by_title<'a>(documents: &'a [Document], title: &str) -> &'a Document {
    documents
        .iter()
        .find(|d| d.title == title)
        .unwrap_or_else(|| panic!("no document titled {title}"))
}

jaryo_testkit::test_on_both_stores!(a_vault_goes_in_once_and_changes_are_updated);
async fn a_vault_goes_in_once_and_changes_are_updated(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let store = app.store();
    let folder = tempfile::tempdir().unwrap();
    let root = folder.path().join("내 보관함");
    vault(&root);

    // A dry run reads everything and writes nothing.
    let dry = import(store.as_ref(), &root, true).await;
    assert_eq!(dry.imported, 5);
    assert!(documents(store.as_ref()).await.is_empty());

    let summary = import(store.as_ref(), &root, false).await;
    assert_eq!(
        (summary.imported, summary.updated, summary.unchanged),
        (5, 0, 0)
    );
    assert_eq!(summary.other_files, 1, "the picture stays where it is");
    let failed: Vec<(&str, &str)> = summary
        .failed
        .iter()
        .map(|f| (f.path.as_str(), f.reason.as_str()))
        .collect();
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert!(
        failed
            .iter()
            .any(|(p, r)| *p == "empty.md" && r.contains("empty"))
    );
    assert!(
        failed
            .iter()
            .any(|(p, r)| *p == "latin1.md" && r.contains("UTF-8"))
    );
    assert_eq!(summary.warnings.len(), 1);
    assert_eq!(summary.warnings[0].path, "broken front matter.md");

    let all = documents(store.as_ref()).await;
    let meeting = by_title(&all, "2026 예산 회의");
    assert_eq!(
        meeting.extracted_text.as_deref(),
        Some("# 예산 회의\n\n[[기획 정리]] 참고. 총액 3억 원.\n\n![[diagram.png]]\n"),
        "the front matter leaves the text; links and embeds stay"
    );
    assert_eq!(meeting.content_origin, ContentOrigin::Import);
    assert_eq!(meeting.tags(), ["회의", "예산/2026"]);
    assert_eq!(meeting.created_at.to_rfc3339(), "2026-03-01T10:20:00+00:00");
    assert_eq!(meeting.updated_at.to_rfc3339(), "2026-03-02T00:00:00+00:00");
    let front_matter = &meeting.source_metadata["front_matter"];
    assert_eq!(front_matter["aliases"][0], "예산 회의");
    assert_eq!(front_matter["rating"], 4);
    assert_eq!(
        meeting.source_metadata["import"]["path"],
        "회의/2026 예산 회의.md"
    );

    // The decomposed name reads as Obsidian shows it, composed.
    let planning = by_title(&all, "기획 정리");
    assert_eq!(planning.tags(), ["기획"]);
    let plan = by_title(&all, "plan");
    assert_eq!(
        plan.created_at.timestamp(),
        1_700_000_000,
        "the file's own time"
    );
    assert_eq!(
        by_title(&all, "notes").extracted_text.as_deref(),
        Some("plain text note about deploys")
    );
    let broken = by_title(&all, "broken front matter");
    assert!(
        broken
            .extracted_text
            .as_deref()
            .unwrap()
            .starts_with("---\n: bad"),
        "kept whole"
    );

    // Imported notes are found by their words, Korean included.
    let hits: serde_json::Value = app
        .authed(reqwest::Method::GET, "/search?q=예산&kind=document")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        hits["hits"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["id"] == meeting.id.0),
        "{hits}"
    );

    // Again: nothing new. Then one note changes: it is updated in place.
    let again = import(store.as_ref(), &root, false).await;
    assert_eq!((again.imported, again.updated, again.unchanged), (0, 0, 5));
    write(
        &root,
        "projects/alpha/plan.md",
        b"Ship the backup script by Monday.",
    );
    let changed = import(store.as_ref(), &root, false).await;
    assert_eq!(
        (changed.imported, changed.updated, changed.unchanged),
        (0, 1, 4)
    );
    let all = documents(store.as_ref()).await;
    assert_eq!(all.len(), 5);
    assert_eq!(
        by_title(&all, "plan").extracted_text.as_deref(),
        Some("Ship the backup script by Monday.")
    );
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(an_export_is_markdown_with_front_matter_and_originals);
async fn an_export_is_markdown_with_front_matter_and_originals(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let store = app.store();
    app.api
        .create_memo("장보기: 우유, 계란 #생활")
        .await
        .unwrap();
    let memo = app
        .api
        .create_memo("# 회의: 예산/일정?\n3억 원 확정 #회의")
        .await
        .unwrap();
    let promoted = app.api.promote_memo(memo.id).await.unwrap();
    let drafted = app
        .wait_for_document(promoted.id, PATIENCE, |d| {
            d.draft.state == jaryo_domain::DraftState::Done
        })
        .await;
    app.api
        .accept_draft(drafted.id, &Default::default())
        .await
        .unwrap();

    let folder = tempfile::tempdir().unwrap();
    let dir = folder.path().join("export");
    let summary = export_to_folder(store.as_ref(), &dir, &|_| {})
        .await
        .unwrap();
    assert_eq!(
        (summary.memos, summary.documents, summary.originals),
        (2, 1, 1)
    );

    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("jaryo-export.json")).unwrap()).unwrap();
    assert_eq!(manifest["format"], "jaryo-export");
    assert_eq!(manifest["memos"], 2);

    // The title's `:`, `/` and `?` are not allowed in Windows names; the Korean stays.
    let document = std::fs::read_to_string(dir.join("documents/회의_ 예산_일정_.md")).unwrap();
    let split = jaryo_exchange::front_matter::split(&document);
    let properties = split.properties.expect("front matter");
    assert_eq!(properties["jaryo"], "document");
    assert_eq!(properties["id"], promoted.id);
    assert_eq!(properties["from_memo"], memo.id);
    assert_eq!(properties["draft"]["review"], "accepted");
    assert_eq!(properties["original"], "originals/회의_ 예산_일정_.md");
    assert_eq!(properties["tags"][0], "회의");
    assert!(properties.contains_key("fidelity"));
    assert_eq!(split.body, drafted.md_content.as_deref().unwrap());
    let original = std::fs::read_to_string(dir.join("originals/회의_ 예산_일정_.md")).unwrap();
    assert_eq!(original, memo.content, "the original verbatim");

    let memos: Vec<_> = std::fs::read_dir(dir.join("memos"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(memos.len(), 2, "{memos:?}");
    let shopping = memos
        .iter()
        .find(|n| n.contains("장보기"))
        .expect("named by its words");
    let note = std::fs::read_to_string(dir.join("memos").join(shopping)).unwrap();
    let split = jaryo_exchange::front_matter::split(&note);
    assert_eq!(split.body, "장보기: 우유, 계란 #생활");
    assert_eq!(split.properties.unwrap()["tags"][0], "생활");

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join("jaryo-export.json")), 0o600);
    }

    // A folder that holds anything is refused: an export never mixes with other files.
    let refused = export_to_folder(store.as_ref(), &dir, &|_| {})
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("not empty"), "{refused}");
    app.stop().await;
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in entries {
        zip.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut zip, bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

async fn post_import(app: &TestApp, query: &str, body: Vec<u8>) -> (u16, serde_json::Value) {
    let response = app
        .authed(reqwest::Method::POST, &format!("/import{query}"))
        .header("content-type", "application/zip")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

jaryo_testkit::test_on_both_stores!(a_zipped_vault_goes_in_over_http_and_the_library_comes_out);
async fn a_zipped_vault_goes_in_over_http_and_the_library_comes_out(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let vault = zip_of(&[
        (
            "연구 노트/회의.md",
            "---\ntags: [회의]\n---\n다음 주 회의 안건".as_bytes(),
        ),
        ("연구 노트/sub/plan.md", b"deploy plan"),
        ("연구 노트/image.png", b"\x89PNG"),
        ("연구 노트/.obsidian/app.md", b"settings"),
    ]);
    let (status, dry) = post_import(&app, "?dry_run=true", vault.clone()).await;
    assert_eq!(status, 200, "{dry}");
    assert_eq!(dry["imported"], 2);
    assert!(documents(app.store().as_ref()).await.is_empty());

    let (status, summary) = post_import(&app, "", vault.clone()).await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(summary["imported"], 2);
    assert_eq!(summary["other_files"], 2, "{summary}");
    let (_, again) = post_import(&app, "", vault).await;
    assert_eq!(
        (again["imported"].clone(), again["unchanged"].clone()),
        (0.into(), 2.into())
    );
    let all = documents(app.store().as_ref()).await;
    let meeting = by_title(&all, "회의");
    assert_eq!(
        meeting.source_metadata["import"]["key"],
        "vault:연구 노트/회의.md"
    );
    assert_eq!(meeting.tags(), ["회의"]);

    // Refused plainly: not a zip, not sent as one, a path that climbs out of its folder.
    let (status, error) = post_import(&app, "", b"plain text".to_vec()).await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (422, Some("invalid_input"))
    );
    let response = app
        .authed(reqwest::Method::POST, "/import")
        .header("content-type", "text/plain")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 415);
    let (status, error) = post_import(&app, "", zip_of(&[("../escape.md", b"x")])).await;
    assert_eq!(status, 422, "{error}");
    let (status, _) = post_import(&app, "?overwrite=true", zip_of(&[("a.md", b"x")])).await;
    assert_eq!(status, 400, "an unknown parameter is refused");

    // The export: a zip with the documents as Markdown, named for a download.
    let response = app
        .authed(reqwest::Method::GET, "/export")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["content-type"], "application/zip");
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"jaryo-export-")
    );
    let bytes = response.bytes().await.unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut note = String::new();
    std::io::Read::read_to_string(
        &mut archive.by_name("documents/회의.md").unwrap(),
        &mut note,
    )
    .unwrap();
    assert!(note.ends_with("---\n다음 주 회의 안건"), "{note}");
    assert!(archive.by_name("jaryo-export.json").is_ok());
    app.stop().await;
}
