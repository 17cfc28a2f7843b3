use herald_channels::{EmailChannel, FileOutbox, Outcome, build_eml};
use mail_parser::MessageParser;

use crate::sample_email;

fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p))
        } else {
            out.push(p)
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn writes_the_eml_where_documented() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = FileOutbox::new(dir.path().join("outbox"));
    assert_eq!(outbox.dir(), dir.path().join("outbox"));
    let msg = sample_email(42);

    let outcome = outbox.send_email(42, &msg).await;

    let expected = dir
        .path()
        .join("outbox/email/2026-11-20/00000042-jan.kowalski_at_klient.pl.eml");
    match &outcome {
        Outcome::Delivered {
            provider_id,
            detail,
        } => {
            assert_eq!(
                provider_id.as_deref(),
                Some(expected.display().to_string().as_str())
            );
            assert!(
                detail.starts_with("written to ") && detail.contains("00000042-"),
                "{detail}"
            );
        }
        other => panic!("expected Delivered, got {other:?}"),
    }
    assert_eq!(outbox.email_path(42, &msg), expected);
    assert_eq!(std::fs::read(&expected).unwrap(), build_eml(&msg).unwrap());
    assert_eq!(files_under(dir.path()), [expected]);
}

#[tokio::test]
async fn resending_a_delivery_leaves_one_file_with_the_second_content() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = FileOutbox::new(dir.path());
    let first = sample_email(42);
    let mut second = sample_email(42);
    second.subject = "Druga wersja – ż".to_owned();

    assert!(outbox.send_email(42, &first).await.is_delivered());
    assert!(outbox.send_email(42, &second).await.is_delivered());

    let files = files_under(dir.path());
    assert_eq!(files.len(), 1, "{files:?}");
    let bytes = std::fs::read(&files[0]).unwrap();
    let parsed = MessageParser::default().parse(&bytes).unwrap();
    assert_eq!(parsed.subject(), Some("Druga wersja – ż"));
    assert!(
        files
            .iter()
            .all(|f| !f.file_name().unwrap().to_string_lossy().ends_with(".tmp"))
    );
}

#[tokio::test]
async fn concurrent_sends_of_one_delivery_leave_one_whole_file() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = std::sync::Arc::new(FileOutbox::new(dir.path()));
    let msg = std::sync::Arc::new(sample_email(5));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (o, m) = (outbox.clone(), msg.clone());
            tokio::spawn(async move { o.send_email(5, &m).await })
        })
        .collect();
    for t in tasks {
        assert!(t.await.unwrap().is_delivered());
    }
    let files = files_under(dir.path());
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(std::fs::read(&files[0]).unwrap(), build_eml(&msg).unwrap());
}

#[tokio::test]
async fn a_file_where_the_outbox_should_be_is_permanent_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("outbox");
    std::fs::write(&blocker, b"not a directory").unwrap();
    let outbox = FileOutbox::new(&blocker);

    let outcome = outbox.send_email(42, &sample_email(42)).await;
    let Outcome::Permanent { detail } = &outcome else {
        panic!("expected Permanent, got {outcome:?}")
    };
    assert!(detail.contains(&blocker.display().to_string()), "{detail}");
    assert!(detail.contains("not a directory"), "{detail}");
    assert!(
        detail.contains("point the file channel's dir elsewhere"),
        "{detail}"
    );
    assert_eq!(std::fs::read(&blocker).unwrap(), b"not a directory");
}

#[tokio::test]
async fn a_file_where_the_day_directory_should_be_is_not_delivered() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("email")).unwrap();
    std::fs::write(dir.path().join("email/2026-11-20"), b"x").unwrap();
    let outcome = FileOutbox::new(dir.path())
        .send_email(42, &sample_email(42))
        .await;
    assert!(matches!(outcome, Outcome::Permanent { .. }), "{outcome:?}");
}

#[tokio::test]
async fn a_message_that_cannot_be_built_is_permanent_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut msg = sample_email(42);
    msg.headers.push(("Subject".to_owned(), "x".to_owned()));
    let outcome = FileOutbox::new(dir.path()).send_email(42, &msg).await;
    let Outcome::Permanent { detail } = &outcome else {
        panic!("{outcome:?}")
    };
    assert!(detail.contains("'Subject'"), "{detail}");
    assert!(files_under(dir.path()).is_empty());
}

#[tokio::test]
async fn the_outbox_works_behind_the_channel_trait() {
    let dir = tempfile::tempdir().unwrap();
    let channel: Box<dyn EmailChannel> = Box::new(FileOutbox::new(dir.path()));
    let outcome = channel.send_email(3, &sample_email(3)).await;
    assert!(outcome.is_delivered(), "{outcome:?}");
    assert_eq!(files_under(dir.path()).len(), 1);
}
