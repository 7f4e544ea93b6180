//! Outgoing mail: a real SMTP server when configured, otherwise `.eml` files in
//! an outbox folder so a practice without mail still gets its links.

use std::path::PathBuf;

use anyhow::Context;
use lettre::message::Mailbox;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

#[derive(Clone)]
pub enum Mailer {
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        from: Mailbox,
    },
    Outbox {
        dir: PathBuf,
        from: Mailbox,
    },
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mailer::Smtp { .. } => f.write_str("Mailer::Smtp"),
            Mailer::Outbox { dir, .. } => write!(f, "Mailer::Outbox({})", dir.display()),
        }
    }
}

impl Mailer {
    /// `smtp_url` like `smtp://user:pass@host:587?tls=required` or `smtps://…`
    /// (see lettre's URL format); it may hold a password and is never logged.
    pub fn smtp(smtp_url: &str, from: &str) -> anyhow::Result<Self> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
            .context("the SMTP URL is not valid")?
            .build();
        Ok(Mailer::Smtp {
            transport,
            from: from
                .parse()
                .context("the mail sender address is not valid")?,
        })
    }

    pub fn outbox(dir: PathBuf, from: &str) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("could not create the mail outbox {}", dir.display()))?;
        Ok(Mailer::Outbox {
            dir,
            from: from
                .parse()
                .context("the mail sender address is not valid")?,
        })
    }

    /// The sender's bare address, for a contact that is not a mail (VAPID).
    pub fn from_address(&self) -> String {
        match self {
            Mailer::Smtp { from, .. } | Mailer::Outbox { from, .. } => from.email.to_string(),
        }
    }

    #[tracing::instrument(skip(self, body), fields(mailer = ?self))]
    pub async fn send(
        &self,
        to_name: &str,
        to_email: &str,
        subject: &str,
        body: String,
    ) -> anyhow::Result<()> {
        let to = Mailbox::new(
            Some(to_name.to_owned()).filter(|name| !name.is_empty()),
            to_email.parse().context("recipient address")?,
        );
        let from = match self {
            Mailer::Smtp { from, .. } | Mailer::Outbox { from, .. } => from.clone(),
        };
        let message = Message::builder()
            .from(from)
            .to(to)
            .subject(subject)
            .body(body)
            .context("could not build the message")?;
        match self {
            Mailer::Smtp { transport, .. } => {
                transport
                    .send(message)
                    .await
                    .context("the SMTP server refused the message")?;
            }
            Mailer::Outbox { dir, .. } => {
                let id = AsyncFileTransport::<Tokio1Executor>::new(dir)
                    .send(message)
                    .await
                    .context("could not write to the mail outbox")?;
                tracing::info!(path = %dir.join(format!("{id}.eml")).display(), "no SMTP server configured: mail written to the outbox");
            }
        }
        Ok(())
    }
}
