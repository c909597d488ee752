//! The catalogue index: published services in a tantivy index held in memory, the summary of
//! each beside it, so a search answers without touching the database.
//!
//! Ranking: every query word is one clause, scored from (best first) an exact match in the
//! title, a prefix match in the title (`گواهی` → `گواهینامه`), a match within one typo in the
//! title, then the same three in the body (summary, steps, documents, agency, output). A service
//! matching more of the words scores more. Every word must match; when no service has them all,
//! half of them will do.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, PhrasePrefixQuery, Query, TermQuery,
};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use crate::analyzer::{PERSIAN, PersianTokenizer, Word, is_stop_word, words};
use crate::spoken;
use crate::synonyms::Synonyms;

/// One published service as the index keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub code: String,
    /// The province of the service's agency; `None` for a national agency.
    pub province: Option<String>,
    pub agency: String,
    pub agency_name: String,
    pub category: String,
    /// Life and business events (`birth`, `buying-a-car` …).
    pub events: Vec<String>,
    /// online, centre, agency-office.
    pub channels: Vec<String>,
    /// The codes of the forms the card names.
    pub forms: Vec<String>,
    pub title_fa: String,
    pub title_en: Option<String>,
    pub summary_fa: String,
    /// Everything else worth finding: steps, documents, output, deciding unit.
    pub body: String,
    pub processing_days: u32,
    pub visits_in_person: u32,
    pub total_fee_rials: i64,
    pub version: i64,
    /// RFC 3339.
    pub updated_at: String,
}

/// Narrows a search; `None` is "any".
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub province: Option<String>,
    pub agency: Option<String>,
    pub category: Option<String>,
    pub channel: Option<String>,
    pub event: Option<String>,
}

impl Filter {
    /// Does the service pass every filter? (A province filter keeps national services too.)
    pub fn admits(&self, e: &Entry) -> bool {
        let is = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
        let has = |want: &Option<String>, have: &[String]| {
            want.as_deref().is_none_or(|w| have.iter().any(|h| h == w))
        };
        self.province
            .as_deref()
            .is_none_or(|p| e.province.as_deref().is_none_or(|have| have == p))
            && is(&self.agency, &e.agency)
            && is(&self.category, &e.category)
            && has(&self.channel, &e.channels)
            && has(&self.event, &e.events)
    }
}

/// What a search found.
#[derive(Debug, Clone, Default)]
pub struct Found {
    /// How many services match (all pages).
    pub total: usize,
    pub hits: Vec<Arc<Entry>>,
    /// When nothing matched: the query with its words corrected, if that finds something.
    pub did_you_mean: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("search index lock poisoned")]
    Poisoned,
}

#[derive(Clone, Copy)]
struct Fields {
    code: Field,
    slot: Field,
    province: Field,
    agency: Field,
    category: Field,
    channel: Field,
    event: Field,
    title: Field,
    body: Field,
}

/// The index and the summaries beside it. Cheap to share (`Arc`); searches run in parallel with
/// each other and with updates.
pub struct Catalogue {
    fields: Fields,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    state: RwLock<State>,
    answers: RwLock<Answers>,
}

impl std::fmt::Debug for Catalogue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalogue")
            .field("services", &self.len())
            .finish()
    }
}

#[derive(Default)]
struct State {
    /// Each indexed document carries a slot number: its place here.
    slots: Vec<Option<Arc<Entry>>>,
    by_code: HashMap<String, u64>,
    /// Every word of every title and body with its count: "did you mean" picks from these.
    vocabulary: HashMap<String, u32>,
    synonyms: Synonyms,
}

/// Answers already given, by query as analyzed, filter and page; emptied whenever the index or
/// the synonyms change. Searches repeat a lot (the same service names all day), and an answer
/// from here costs a hash lookup instead of scoring thousands of documents.
#[derive(Default)]
struct Answers {
    map: HashMap<String, Found>,
}

/// Answers kept at most; past it the cache starts again empty.
const MAX_ANSWERS: usize = 10_000;

const NATIONAL: &str = "-";

/// How a search matches the words typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Mode {
    /// Every word must match (otherwise half of them).
    every_word: bool,
    /// Any one word may match: a long spoken query is ranked on its best words.
    any_word: bool,
    /// Words may match within one typo.
    typos: bool,
    /// The last word is unfinished: prefix matches only (suggestions).
    prefix_only: bool,
    titles_only: bool,
}

impl Mode {
    const EXACT: Mode = Mode {
        every_word: true,
        any_word: false,
        typos: false,
        prefix_only: false,
        titles_only: false,
    };
    const TYPO: Mode = Mode {
        typos: true,
        ..Mode::EXACT
    };
    const LOOSE: Mode = Mode {
        every_word: false,
        ..Mode::TYPO
    };
    /// A long query ("بچه‌ام به دنیا اومده شناسنامه می‌خوام") matches on any of its words and
    /// ranks by how many and how telling: people add words no card uses.
    const BEST: Mode = Mode {
        any_word: true,
        ..Mode::LOOSE
    };
    const SUGGEST: Mode = Mode {
        prefix_only: true,
        titles_only: true,
        ..Mode::EXACT
    };
}
const TITLE_EXACT: f32 = 6.0;
const TITLE_PREFIX: f32 = 3.0;
const TITLE_FUZZY: f32 = 2.0;
const BODY_EXACT: f32 = 1.0;
const BODY_FUZZY: f32 = 0.3;

impl Catalogue {
    pub fn new() -> Result<Catalogue, SearchError> {
        let mut schema = Schema::builder();
        let text = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(PERSIAN)
                .set_index_option(IndexRecordOption::WithFreqs),
        );
        let fields = Fields {
            code: schema.add_text_field("code", STRING),
            slot: schema.add_u64_field("slot", INDEXED | FAST),
            province: schema.add_text_field("province", STRING),
            agency: schema.add_text_field("agency", STRING),
            category: schema.add_text_field("category", STRING),
            channel: schema.add_text_field("channel", STRING),
            event: schema.add_text_field("event", STRING),
            title: schema.add_text_field("title", text.clone()),
            body: schema.add_text_field("body", text),
        };
        let index = Index::create_in_ram(schema.build());
        index.tokenizers().register(PERSIAN, PersianTokenizer);
        // One indexing thread, 15 MB (tantivy's smallest budget): updates are a few documents
        // at a time, a rebuild of 20,000 services takes about a second.
        let writer = index.writer_with_num_threads(1, 15_000_000)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Catalogue {
            fields,
            reader,
            writer: Mutex::new(writer),
            state: RwLock::new(State::default()),
            answers: RwLock::new(Answers::default()),
        })
    }

    fn document(&self, entry: &Entry, slot: u64) -> TantivyDocument {
        let f = self.fields;
        let mut doc = TantivyDocument::default();
        doc.add_text(f.code, &entry.code);
        doc.add_u64(f.slot, slot);
        doc.add_text(f.province, entry.province.as_deref().unwrap_or(NATIONAL));
        doc.add_text(f.agency, &entry.agency);
        doc.add_text(f.category, &entry.category);
        for channel in &entry.channels {
            doc.add_text(f.channel, channel);
        }
        for event in &entry.events {
            doc.add_text(f.event, event);
        }
        doc.add_text(f.title, &entry.title_fa);
        if let Some(en) = &entry.title_en {
            doc.add_text(f.title, en);
        }
        doc.add_text(f.body, &entry.summary_fa);
        doc.add_text(f.body, &entry.agency_name);
        doc.add_text(f.body, &entry.body);
        doc
    }

    /// Puts these services in the index (replacing the ones with the same code) and takes out
    /// the codes in `removed`; searches see all of it at once.
    pub fn update(&self, entries: Vec<Entry>, removed: &[String]) -> Result<(), SearchError> {
        let mut writer = self.writer.lock().map_err(|_| SearchError::Poisoned)?;
        {
            let mut state = self.state.write().map_err(|_| SearchError::Poisoned)?;
            for code in removed.iter().chain(entries.iter().map(|e| &e.code)) {
                if let Some(slot) = state.by_code.remove(code) {
                    writer.delete_term(Term::from_field_text(self.fields.code, code));
                    if let Some(old) = state.slots.get_mut(slot as usize).and_then(Option::take) {
                        forget_words(&mut state.vocabulary, &old);
                    }
                }
            }
            for entry in entries {
                self.add(&writer, &mut state, entry)?;
            }
        }
        self.publish(&mut writer, 8)
    }

    /// Adds one service (the first of a code only: read in pages while others publish, a
    /// service may come twice).
    fn add(
        &self,
        writer: &IndexWriter,
        state: &mut State,
        entry: Entry,
    ) -> Result<(), SearchError> {
        if state.by_code.contains_key(&entry.code) {
            return Ok(());
        }
        let slot = state.slots.len() as u64;
        writer.add_document(self.document(&entry, slot))?;
        learn_words(&mut state.vocabulary, &entry);
        state.by_code.insert(entry.code.clone(), slot);
        state.slots.push(Some(Arc::new(entry)));
        Ok(())
    }

    /// Makes what was written searchable, with at most `segments` segments, and forgets the
    /// answers given before.
    fn publish(&self, writer: &mut IndexWriter, segments: usize) -> Result<(), SearchError> {
        writer.commit()?;
        Self::compact(writer, segments)?;
        self.reader.reload()?;
        self.forget_answers();
        Ok(())
    }

    /// Merges the index's segments into one when there are more than `most`: each search visits
    /// every segment, and publishing one service at a time leaves one small segment per publish.
    fn compact(writer: &mut IndexWriter, most: usize) -> Result<(), SearchError> {
        let segments = writer.index().searchable_segment_ids()?;
        if segments.len() > most {
            // The merge runs on tantivy's merge thread; waiting keeps searches on one segment.
            let _ = writer.merge(&segments).wait()?;
        }
        Ok(())
    }

    /// Replaces the whole index with these services.
    pub fn rebuild(&self, entries: Vec<Entry>) -> Result<(), SearchError> {
        let mut writer = self.writer.lock().map_err(|_| SearchError::Poisoned)?;
        writer.delete_all_documents()?;
        {
            let mut state = self.state.write().map_err(|_| SearchError::Poisoned)?;
            let synonyms = std::mem::take(&mut state.synonyms);
            *state = State {
                synonyms,
                ..State::default()
            };
            for entry in entries {
                self.add(&writer, &mut state, entry)?;
            }
        }
        self.publish(&mut writer, 1)
    }

    pub fn set_synonyms(&self, synonyms: Synonyms) -> Result<(), SearchError> {
        self.state
            .write()
            .map_err(|_| SearchError::Poisoned)?
            .synonyms = synonyms;
        self.forget_answers();
        Ok(())
    }

    fn forget_answers(&self) {
        if let Ok(mut answers) = self.answers.write() {
            answers.map.clear();
        }
    }

    /// The indexed summary of one service.
    pub fn get(&self, code: &str) -> Option<Arc<Entry>> {
        let state = self.state.read().ok()?;
        let slot = *state.by_code.get(code)?;
        state.slots.get(slot as usize).cloned().flatten()
    }

    /// The published version the index holds for each code.
    pub fn versions(&self) -> HashMap<String, i64> {
        let Ok(state) = self.state.read() else {
            return HashMap::new();
        };
        state
            .slots
            .iter()
            .flatten()
            .map(|e| (e.code.clone(), e.version))
            .collect()
    }

    pub fn len(&self) -> usize {
        self.state.read().map(|s| s.by_code.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every service passing the filter, by Persian title (listings without a query).
    pub fn browse(&self, filter: &Filter) -> Vec<Arc<Entry>> {
        let Ok(state) = self.state.read() else {
            return Vec::new();
        };
        let mut out: Vec<Arc<Entry>> = state
            .slots
            .iter()
            .flatten()
            .filter(|e| filter.admits(e))
            .cloned()
            .collect();
        out.sort_by(|a, b| {
            a.title_fa
                .cmp(&b.title_fa)
                .then_with(|| a.code.cmp(&b.code))
        });
        out
    }

    /// Services matching `query`, best first; `offset`/`limit` page through them. Answers are
    /// kept until the index changes.
    pub fn search(
        &self,
        query: &str,
        filter: &Filter,
        offset: usize,
        limit: usize,
    ) -> Result<Found, SearchError> {
        let query = bounded(query);
        // The key holds each word's parts too: "گواهی‌نامه" (a compound) and "گواهینامه" (one
        // word) fold alike but do not search alike.
        let analyzed: Vec<String> = words(query)
            .into_iter()
            .map(|w| format!("{}/{}", w.joined, w.parts.join("+")))
            .collect();
        let key = format!(
            "{}|{:?}|{:?}|{:?}|{:?}|{:?}|{offset}|{limit}",
            analyzed.join(" "),
            filter.province,
            filter.agency,
            filter.category,
            filter.channel,
            filter.event
        );
        if let Some(found) = self
            .answers
            .read()
            .ok()
            .and_then(|a| a.map.get(&key).cloned())
        {
            return Ok(found);
        }
        let found = self.search_index(query, filter, offset, limit)?;
        if let Ok(mut answers) = self.answers.write() {
            if answers.map.len() >= MAX_ANSWERS {
                answers.map.clear();
            }
            answers.map.insert(key, found.clone());
        }
        Ok(found)
    }

    fn search_index(
        &self,
        query: &str,
        filter: &Filter,
        offset: usize,
        limit: usize,
    ) -> Result<Found, SearchError> {
        let mut query_words = self.segment(self.spoken(words(query))?)?;
        // A synonym rule's words are another way of saying its phrase: alternatives of each word
        // of the phrase (so a phrase no card uses still matches), and extra score.
        let expansion = {
            let state = self.state.read().map_err(|_| SearchError::Poisoned)?;
            let plain: Vec<String> = query_words.iter().map(|w| w.joined.clone()).collect();
            for (word, adds) in query_words
                .iter_mut()
                .zip(state.synonyms.alternatives(&plain))
            {
                word.parts.extend(adds);
            }
            state.synonyms.expand(&plain)
        };
        // Cheapest and most precise first: every word, exactly or as a prefix; then every word
        // within a typo; then half of the words (people add words the cards do not use:
        // "گرفتن گواهینامه").
        let mut found = Found::default();
        for mode in [Mode::EXACT, Mode::TYPO, Mode::LOOSE, Mode::BEST] {
            // Half of two words is one: LOOSE needs two words, and BEST (one of them) three.
            let fewest = match mode {
                Mode::LOOSE => 2,
                Mode::BEST => 3,
                _ => 0,
            };
            if query_words.len() < fewest {
                break;
            }
            found = self.run(&query_words, &expansion, filter, offset, limit, mode)?;
            if found.total > 0 {
                break;
            }
        }
        if found.total == 0 && !query_words.is_empty() {
            let corrected = self.correct(&query_words)?;
            if let Some(corrected) = corrected {
                query_words = words(&corrected);
                let again = self.run(&query_words, &[], filter, 0, 1, Mode::LOOSE)?;
                if again.total > 0 {
                    found.did_you_mean = Some(corrected);
                }
            }
        }
        Ok(found)
    }

    /// Suggestions while someone types: the last word may be unfinished, so it matches as a
    /// prefix only; titles count, not bodies.
    pub fn suggest(
        &self,
        query: &str,
        filter: &Filter,
        limit: usize,
    ) -> Result<Vec<Arc<Entry>>, SearchError> {
        let typed = words(bounded(query));
        Ok(self.run(&typed, &[], filter, 0, limit, Mode::SUGGEST)?.hits)
    }

    /// One search: each typed word a clause, matched as `mode` says. Synonym expansions only
    /// add to the score.
    fn run(
        &self,
        typed: &[Word],
        expansion: &[String],
        filter: &Filter,
        offset: usize,
        limit: usize,
        mode: Mode,
    ) -> Result<Found, SearchError> {
        let f = self.fields;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut word_clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (i, word) in typed.iter().enumerate() {
            let last = i + 1 == typed.len();
            let mut alternatives = vec![word.joined.clone()];
            alternatives.extend(word.parts.iter().cloned());
            let word_mode = Mode {
                prefix_only: mode.prefix_only && last,
                ..mode
            };
            word_clauses.push((
                Occur::Should,
                Box::new(self.word_query(&alternatives, word_mode)),
            ));
        }
        let required = if mode.any_word {
            1
        } else if mode.every_word {
            word_clauses.len()
        } else {
            word_clauses.len().div_ceil(2)
        };
        for word in expansion {
            word_clauses.push((
                Occur::Should,
                Box::new(self.word_query(std::slice::from_ref(word), Mode::EXACT)),
            ));
        }
        if word_clauses.is_empty() {
            return Ok(Found::default());
        }
        let words = BooleanQuery::with_minimum_required_clauses(word_clauses, required.max(1));
        clauses.push((Occur::Must, Box::new(words)));
        let mut must = |field: Field, value: &Option<String>| {
            if let Some(value) = value {
                clauses.push((
                    Occur::Must,
                    Box::new(TermQuery::new(
                        Term::from_field_text(field, value),
                        IndexRecordOption::Basic,
                    )),
                ));
            }
        };
        must(f.agency, &filter.agency);
        must(f.category, &filter.category);
        must(f.channel, &filter.channel);
        must(f.event, &filter.event);
        if let Some(province) = &filter.province {
            // A province's services and the national ones.
            clauses.push((
                Occur::Must,
                Box::new(BooleanQuery::new(vec![
                    (
                        Occur::Should,
                        Box::new(TermQuery::new(
                            Term::from_field_text(f.province, province),
                            IndexRecordOption::Basic,
                        )),
                    ),
                    (
                        Occur::Should,
                        Box::new(TermQuery::new(
                            Term::from_field_text(f.province, NATIONAL),
                            IndexRecordOption::Basic,
                        )),
                    ),
                ])),
            ));
        }
        let query = BooleanQuery::new(clauses);
        let searcher = self.reader.searcher();
        let (top, total) = searcher.search(
            &query,
            &(
                TopDocs::with_limit(limit.max(1))
                    .and_offset(offset)
                    .order_by_score(),
                Count,
            ),
        )?;
        let state = self.state.read().map_err(|_| SearchError::Poisoned)?;
        let mut hits = Vec::with_capacity(top.len());
        let mut columns: HashMap<u32, tantivy::columnar::Column<u64>> = HashMap::new();
        for (_, address) in top.into_iter().take(limit) {
            let column = match columns.entry(address.segment_ord) {
                std::collections::hash_map::Entry::Occupied(c) => c.into_mut(),
                std::collections::hash_map::Entry::Vacant(v) => v.insert(
                    searcher
                        .segment_reader(address.segment_ord)
                        .fast_fields()
                        .u64("slot")?,
                ),
            };
            if let Some(entry) = column
                .first(address.doc_id)
                .and_then(|slot| state.slots.get(slot as usize).cloned().flatten())
            {
                hits.push(entry);
            }
        }
        Ok(Found {
            total,
            hits,
            did_you_mean: None,
        })
    }

    /// One query word: exact and prefix matches, and (when the mode allows, for words of three
    /// letters or more) matches within one typo; in the title, and (unless the mode is for
    /// suggestions) in the body.
    fn word_query(&self, alternatives: &[String], mode: Mode) -> BooleanQuery {
        let f = self.fields;
        let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let fields: &[(Field, [f32; 3])] = if mode.titles_only {
            &[(f.title, [TITLE_EXACT, TITLE_PREFIX, TITLE_FUZZY])]
        } else {
            &[
                (f.title, [TITLE_EXACT, TITLE_PREFIX, TITLE_FUZZY]),
                (f.body, [BODY_EXACT, 0.0, BODY_FUZZY]),
            ]
        };
        for word in alternatives {
            let letters = word.chars().count();
            for &(field, [exact, prefix, fuzzy]) in fields {
                let term = Term::from_field_text(field, word);
                if !mode.prefix_only {
                    should.push((
                        Occur::Should,
                        Box::new(BoostQuery::new(
                            Box::new(TermQuery::new(term.clone(), IndexRecordOption::WithFreqs)),
                            exact,
                        )),
                    ));
                }
                // Prefixes in titles only: a word's start in a title ("گواهی" → "گواهینامه")
                // says much more than in a body, and body prefixes cost the most to score.
                if (letters >= 3 || mode.prefix_only) && field == f.title {
                    // A single-term phrase prefix is a range over the term dictionary: cheap.
                    should.push((
                        Occur::Should,
                        Box::new(BoostQuery::new(
                            Box::new(PhrasePrefixQuery::new(vec![term.clone()])),
                            prefix,
                        )),
                    ));
                }
                if mode.typos && letters >= 3 {
                    should.push((
                        Occur::Should,
                        Box::new(BoostQuery::new(
                            Box::new(FuzzyTermQuery::new(term, 1, true)),
                            fuzzy,
                        )),
                    ));
                }
            }
        }
        BooleanQuery::new(should)
    }

    /// Reads spoken words as written ones, where the catalogue does not know the word as typed:
    /// a spoken ending comes off when what remains is a known word (`گواهینامم` → `گواهینامه`),
    /// and a word in Latin letters becomes the known Persian words it spells (`shenasname` →
    /// `شناسنامه`). See [`crate::spoken`].
    fn spoken(&self, typed: Vec<Word>) -> Result<Vec<Word>, SearchError> {
        let state = self.state.read().map_err(|_| SearchError::Poisoned)?;
        let known = |w: &str| state.vocabulary.contains_key(w) || state.synonyms.mentions(w);
        let mut out = Vec::with_capacity(typed.len());
        for mut word in typed {
            if known(&word.joined) {
                out.push(word);
                continue;
            }
            if spoken::is_latin(&word.joined) {
                // An English word the cards hold the start of ("renew" → "renewal") stays.
                if state.vocabulary.keys().any(|k| k.starts_with(&word.joined)) {
                    out.push(word);
                    continue;
                }
                let read = transliterate(&state.vocabulary, &state.synonyms, &word.joined);
                if let Some((best, rest)) = read.split_first() {
                    word.joined = best.clone();
                    word.parts = rest.to_vec();
                }
                out.push(word);
                continue;
            }
            let stem = spoken::stems(&word.joined).into_iter().find_map(|stem| {
                let stem = spoken::written(&stem).map_or(stem, str::to_owned);
                (known(&stem) || crate::analyzer::is_stop_word(&stem)).then_some(stem)
            });
            match stem {
                Some(stem) if crate::analyzer::is_stop_word(&stem) => {}
                Some(stem) => {
                    word.joined = stem;
                    word.parts = Vec::new();
                    out.push(word);
                }
                None => out.push(word),
            }
        }
        Ok(out)
    }

    /// Fixes how people space words: two words the index knows only as one are joined
    /// (`گواهی نامه`), and a word the index does not know is split into two it does
    /// (`تمدیدگواهینامه`).
    fn segment(&self, typed: Vec<Word>) -> Result<Vec<Word>, SearchError> {
        let state = self.state.read().map_err(|_| SearchError::Poisoned)?;
        let known = |w: &str| state.vocabulary.contains_key(w);
        // Two words the index knows as one ("گواهی نامه" → "گواهینامه") become that one word.
        let mut merged: Vec<Word> = Vec::with_capacity(typed.len());
        for word in typed {
            if let Some(previous) = merged.last_mut() {
                let joined = format!("{}{}", previous.joined, word.joined);
                if (!known(&previous.joined) || !known(&word.joined)) && known(&joined) {
                    previous.parts = vec![previous.joined.clone(), word.joined.clone()];
                    previous.joined = joined;
                    previous.to = word.to;
                    continue;
                }
            }
            merged.push(word);
        }
        let mut out = Vec::with_capacity(merged.len());
        for word in merged {
            let chars: Vec<(usize, char)> = word.joined.char_indices().collect();
            let split = (chars.len() >= 6 && !known(&word.joined))
                .then(|| {
                    (3..chars.len().saturating_sub(2)).find_map(|i| {
                        let at = chars[i].0;
                        let (head, tail) = word.joined.split_at(at);
                        (known(head) && known(tail)).then(|| (head.to_owned(), tail.to_owned()))
                    })
                })
                .flatten();
            match split {
                Some((head, tail)) => {
                    for part in [head, tail] {
                        out.push(Word {
                            joined: part,
                            parts: Vec::new(),
                            from: word.from,
                            to: word.to,
                        });
                    }
                }
                None => out.push(word),
            }
        }
        Ok(out)
    }

    /// The query with each unknown word replaced by the closest known one (two edits at most,
    /// the more frequent word on a tie), or `None` when nothing could be corrected.
    fn correct(&self, typed: &[Word]) -> Result<Option<String>, SearchError> {
        let state = self.state.read().map_err(|_| SearchError::Poisoned)?;
        let mut changed = false;
        let mut out = Vec::with_capacity(typed.len());
        for word in typed {
            if state.vocabulary.contains_key(&word.joined) {
                out.push(word.joined.clone());
                continue;
            }
            let letters: Vec<char> = word.joined.chars().collect();
            let limit = if letters.len() >= 5 { 2 } else { 1 };
            let best = state
                .vocabulary
                .iter()
                .filter_map(|(known, count)| {
                    let d = edit_distance(&letters, known, limit)?;
                    Some((d, std::cmp::Reverse(*count), known))
                })
                .min();
            match best {
                Some((_, _, known)) => {
                    changed = true;
                    out.push(known.clone());
                }
                None => out.push(word.joined.clone()),
            }
        }
        Ok(changed.then(|| out.join(" ")))
    }
}

/// The longest query read, in characters: a service's name takes a few words, and every word is
/// a clause to score, so a pasted page must not become thousands of clauses.
const MAX_QUERY_CHARS: usize = 200;

fn bounded(query: &str) -> &str {
    match query.char_indices().nth(MAX_QUERY_CHARS) {
        Some((at, _)) => &query[..at],
        None => query,
    }
}

fn entry_words(entry: &Entry) -> impl Iterator<Item = String> + '_ {
    [
        entry.title_fa.as_str(),
        entry.title_en.as_deref().unwrap_or(""),
        entry.summary_fa.as_str(),
        entry.body.as_str(),
    ]
    .into_iter()
    .flat_map(words)
    .map(|w| w.joined)
    .filter(|w| !is_stop_word(w) && w.chars().count() > 1)
}

fn learn_words(vocabulary: &mut HashMap<String, u32>, entry: &Entry) {
    for word in entry_words(entry) {
        *vocabulary.entry(word).or_default() += 1;
    }
}

fn forget_words(vocabulary: &mut HashMap<String, u32>, entry: &Entry) {
    for word in entry_words(entry) {
        if let Some(count) = vocabulary.get_mut(&word) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                vocabulary.remove(&word);
            }
        }
    }
}

/// The known Persian words a Latin-letter word spells, best first (at most three): the same
/// consonants, or (for four consonants or more) one consonant off; more frequent words first.
fn transliterate(
    vocabulary: &HashMap<String, u32>,
    synonyms: &Synonyms,
    latin: &str,
) -> Vec<String> {
    let wanted: Vec<char> = spoken::skeleton(latin).chars().collect();
    if wanted.is_empty() {
        return Vec::new();
    }
    let limit = usize::from(wanted.len() >= 4);
    // The cards' words, and the words people use that the synonyms name (`مفاصا`).
    let named: Vec<(&String, &u32)> = synonyms
        .rules()
        .iter()
        .flat_map(|r| r.phrase.iter())
        .filter(|w| !vocabulary.contains_key(*w))
        .map(|w| (w, &0))
        .collect();
    let mut found: Vec<(usize, std::cmp::Reverse<u32>, &String)> = vocabulary
        .iter()
        .chain(named)
        .filter(|(word, _)| !spoken::is_latin(word))
        .filter_map(|(word, count)| {
            let d = edit_distance(&wanted, &spoken::skeleton(word), limit)?;
            Some((d, std::cmp::Reverse(*count), word))
        })
        .collect();
    found.sort();
    found.dedup_by(|a, b| a.2 == b.2);
    found
        .into_iter()
        .take(3)
        .map(|(_, _, w)| w.clone())
        .collect()
}

/// Damerau–Levenshtein (adjacent swaps count one) between `a` and `b`, or `None` above `limit`.
fn edit_distance(a: &[char], b: &str, limit: usize) -> Option<usize> {
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > limit {
        return None;
    }
    let (n, m) = (a.len(), b.len());
    let mut rows = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=n {
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    let d = rows[n][m];
    (d <= limit).then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(code: &str, province: Option<&str>, title: &str, summary: &str) -> Entry {
        Entry {
            code: code.into(),
            province: province.map(str::to_owned),
            agency: "traffic".into(),
            agency_name: "پلیس راهور".into(),
            category: "police-traffic".into(),
            events: vec!["buying-a-car".into()],
            channels: vec!["centre".into()],
            forms: Vec::new(),
            title_fa: title.into(),
            title_en: None,
            summary_fa: summary.into(),
            body: String::new(),
            processing_days: 3,
            visits_in_person: 1,
            total_fee_rials: 0,
            version: 1,
            updated_at: String::new(),
        }
    }

    fn codes(found: &Found) -> Vec<&str> {
        found.hits.iter().map(|e| e.code.as_str()).collect()
    }

    fn catalogue() -> Catalogue {
        let c = Catalogue::new().unwrap_or_else(|e| unreachable!("{e}"));
        c.rebuild(vec![
            entry(
                "renew",
                Some("tehran"),
                "تمدید گواهینامهٔ رانندگی",
                "تمدید گواهینامه",
            ),
            entry(
                "first",
                Some("tehran"),
                "صدور گواهی‌نامهٔ رانندگی پایهٔ سوم",
                "آزمون",
            ),
            entry(
                "fines",
                Some("isfahan"),
                "استعلام خلافی خودرو",
                "جریمه‌های رانندگی",
            ),
            entry("tax", None, "گواهی مفاصاحساب مالیاتی", "مالیات"),
        ])
        .unwrap_or_else(|e| unreachable!("{e}"));
        c
    }

    fn search(c: &Catalogue, q: &str, province: Option<&str>) -> Found {
        let filter = Filter {
            province: province.map(str::to_owned),
            ..Filter::default()
        };
        c.search(q, &filter, 0, 10)
            .unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn finds_by_any_spelling_part_and_typo() {
        let c = catalogue();
        assert_eq!(codes(&search(&c, "تمديد گواهي‌نامه", None))[0], "renew");
        assert_eq!(codes(&search(&c, "گواهی نامه پایه ۳", None))[0], "first");
        assert!(codes(&search(&c, "گواهی", None)).contains(&"renew"));
        assert_eq!(codes(&search(&c, "خلافى خودور", None))[0], "fines");
        assert_eq!(codes(&search(&c, "تمدیدگواهینامه", None))[0], "renew");
    }

    #[test]
    fn scoped_to_a_province_and_the_nation() {
        let c = catalogue();
        assert!(search(&c, "خلافی", Some("tehran")).hits.is_empty());
        assert_eq!(codes(&search(&c, "مفاصاحساب", Some("tehran"))), vec!["tax"]);
    }

    #[test]
    fn synonyms_and_did_you_mean() {
        let c = catalogue();
        c.set_synonyms(Synonyms::parse("جریمه ماشین = خلافی خودرو").unwrap_or_default())
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(codes(&search(&c, "جریمه ماشین", None))[0], "fines");
        let found = search(&c, "مفاصاحصاپ", None);
        assert!(found.hits.is_empty());
        assert_eq!(found.did_you_mean.as_deref(), Some("مفاصاحساب"));
    }

    #[test]
    fn updates_replace_and_remove() {
        let c = catalogue();
        // An answer given before the change is not given after it.
        assert_eq!(codes(&search(&c, "تمدید", None)), vec!["renew"]);
        c.update(
            vec![entry("renew", Some("tehran"), "تعویض گواهینامه", "")],
            &["fines".to_owned()],
        )
        .unwrap_or_else(|e| unreachable!("{e}"));
        assert!(search(&c, "خلافی", None).hits.is_empty());
        assert_eq!(codes(&search(&c, "تعویض", None)), vec!["renew"]);
        assert!(search(&c, "تمدید", None).hits.is_empty());
        assert_eq!(c.len(), 3);
    }

    #[test]
    fn a_compound_and_one_word_are_answered_apart_and_long_queries_are_cut() {
        let c = catalogue();
        // "گواهی" alone finds the compound's part; the one-word spelling must not take its answer.
        let compound = search(&c, "گواهی‌نامه", None);
        let word = search(&c, "گواهینامه", None);
        assert!(codes(&compound).contains(&"first"));
        assert!(codes(&word).contains(&"renew"));
        let long = "تمدید ".repeat(1000);
        assert_eq!(codes(&search(&c, &long, None))[0], "renew");
    }

    #[test]
    fn browses_by_filter_and_title() {
        let c = catalogue();
        let filter = Filter {
            province: Some("tehran".into()),
            event: Some("buying-a-car".into()),
            ..Filter::default()
        };
        let codes: Vec<String> = c.browse(&filter).iter().map(|e| e.code.clone()).collect();
        assert_eq!(codes, vec!["renew", "first", "tax"]);
    }

    #[test]
    fn suggests_from_an_unfinished_word() {
        let c = catalogue();
        let hits = c
            .suggest("تمدید گواهین", &Filter::default(), 5)
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(hits[0].code, "renew");
    }
}
