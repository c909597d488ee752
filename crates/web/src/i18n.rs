//! Translations with Fluent: one bundle per language, from the `.ftl` files compiled into the
//! binary. Persian is the default.

use std::collections::HashMap;
use std::sync::Arc;

use fluent_bundle::FluentResource;
use fluent_bundle::concurrent::FluentBundle;
use pishkhan_domain::Language;
use unic_langid::LanguageIdentifier;

const SOURCES: [(Language, &str); 2] = [
    (Language::Persian, include_str!("../locales/fa.ftl")),
    (Language::English, include_str!("../locales/en.ftl")),
];

/// Every language's messages, loaded once at start. A message that takes no arguments (all the
/// pages' messages) is formatted once, here, so a page's dozens of lookups cost a hash each.
pub struct I18n {
    formatted: HashMap<Language, HashMap<String, String>>,
}

#[derive(Debug, thiserror::Error)]
#[error("the {lang} translations cannot be loaded: {problem}")]
pub struct I18nError {
    lang: Language,
    problem: String,
}

impl I18n {
    pub fn load() -> Result<I18n, I18nError> {
        let mut formatted = HashMap::new();
        for (lang, source) in SOURCES {
            let error = |problem: String| I18nError { lang, problem };
            let resource = FluentResource::try_new(source.to_owned())
                .map_err(|(_, errors)| error(format!("{errors:?}")))?;
            let id: LanguageIdentifier = lang.tag().parse().map_err(|e| error(format!("{e:?}")))?;
            let mut bundle = FluentBundle::new_concurrent(vec![id]);
            // Pages mark direction themselves (dir, <bdi>); Fluent's isolation marks would only
            // add invisible characters to copied text.
            bundle.set_use_isolating(false);
            let ids: Vec<String> = resource
                .entries()
                .filter_map(|entry| match entry {
                    fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_owned()),
                    _ => None,
                })
                .collect();
            bundle
                .add_resource(resource)
                .map_err(|errors| error(format!("{errors:?}")))?;
            for id in ids {
                let Some(pattern) = bundle.get_message(&id).and_then(|m| m.value()) else {
                    continue;
                };
                let mut problems = Vec::new();
                let text = bundle.format_pattern(pattern, None, &mut problems);
                if !problems.is_empty() {
                    return Err(error(format!("message `{id}`: {problems:?}")));
                }
                let text = text.into_owned();
                formatted
                    .entry(lang)
                    .or_insert_with(HashMap::new)
                    .insert(id, text);
            }
        }
        Ok(I18n { formatted })
    }

    /// The message `id` in `lang`. A missing message shows its id (and the unit tests make sure
    /// none is missing).
    pub fn message<'a>(&'a self, lang: Language, id: &'a str) -> &'a str {
        match self
            .formatted
            .get(&lang)
            .and_then(|messages| messages.get(id))
        {
            Some(text) => text,
            None => {
                tracing::warn!(%lang, id, "missing translation");
                id
            }
        }
    }
}

/// The messages of one language, handed to templates as `t`.
#[derive(Clone)]
pub struct Translator {
    i18n: Arc<I18n>,
    lang: Language,
}

impl Translator {
    pub fn new(i18n: Arc<I18n>, lang: Language) -> Self {
        Translator { i18n, lang }
    }

    /// For templates: `{{ t.get("id") }}`.
    pub fn get<'a>(&'a self, id: &'a str) -> &'a str {
        self.i18n.message(self.lang, id)
    }

    /// An owned copy, for handlers that keep a message in a view.
    pub fn string(&self, id: &str) -> String {
        self.i18n.message(self.lang, id).to_owned()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn ids(source: &str) -> BTreeSet<String> {
        source
            .lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with(' '))
            .filter_map(|l| l.split_once(" = ").map(|(id, _)| id.trim().to_owned()))
            .collect()
    }

    #[test]
    fn every_language_has_every_message() {
        let persian = ids(SOURCES[0].1);
        let english = ids(SOURCES[1].1);
        assert!(persian.len() > 10);
        assert_eq!(
            persian.symmetric_difference(&english).collect::<Vec<_>>(),
            Vec::<&String>::new(),
            "messages present in one language only"
        );
    }

    #[test]
    fn every_message_a_template_asks_for_exists() {
        let known = ids(SOURCES[0].1);
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
        let mut asked = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            for piece in text.split("t.get(\"").skip(1) {
                let id = piece.split('"').next().unwrap();
                assert!(
                    known.contains(id),
                    "template asks for unknown message `{id}`"
                );
                asked += 1;
            }
        }
        assert!(
            asked > 10,
            "templates should use translations ({asked} found)"
        );
    }

    #[test]
    fn messages_come_in_the_asked_language() {
        let i18n = Arc::new(I18n::load().unwrap());
        assert_eq!(i18n.message(Language::Persian, "site-name"), "پیشخوان");
        assert_eq!(i18n.message(Language::English, "site-name"), "Pishkhan");
        assert_eq!(
            Translator::new(i18n, Language::English).get("no-such-message"),
            "no-such-message"
        );
    }
}
