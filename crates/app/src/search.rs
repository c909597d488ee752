//! The portal's search: the published catalogue in the in-memory index of `pishkhan-search`,
//! kept current on every node.
//!
//! At start the index is built from the database. Afterwards it follows the catalogue's history
//! (`service_history`, whose ids only grow): a publish or retire on this node refreshes it at once,
//! and every node polls for what other nodes published ([`SEARCH_POLL_INTERVAL`]). A refresh
//! re-reads a window of recent history (not just entries after the last one seen), because on
//! PostgreSQL a lower id can commit after a higher one; each service is reloaded only when its
//! published version differs from the indexed one.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::Utc;
use pishkhan_domain::Problem;
use pishkhan_domain::catalog::ServiceCard;
use pishkhan_search::{Catalogue, SearchError, Synonyms};
pub use pishkhan_search::{Entry, Filter, Found};
use pishkhan_store::{OrgDirectory, ServiceFilter, StoreError};

use crate::App;
use crate::audit::Actor;
use crate::catalog::PublishedService;
use crate::policy::{NATIONAL_SETTINGS_EDITORS, Principal};

/// How often each node looks for what other nodes published.
pub const SEARCH_POLL_INTERVAL: Duration = Duration::from_secs(2);

/// Different searches that found nothing counted between two heartbeats, at most.
const MISSES_PER_BEAT: usize = 1000;

/// How many services a rebuild reads from the database at a time.
const REBUILD_PAGE: i64 = 1000;

/// How many history entries before the newest one seen a refresh reads again.
const REREAD_WINDOW: i64 = 1000;

/// The synonyms a fresh database starts with: common ways people name the priority services.
pub const DEFAULT_SYNONYMS: &str = "\
# آنچه مردم می‌نویسند = واژه‌های شناسنامهٔ خدمت (هر سطر یک قاعده)
# واژه‌های گفتاری (خونه، ساختمون، اومده) و پسوندهای گفتاری (شناسنامه‌ام، برقمو) را جست‌وجو خودش
# به نوشتاری برمی‌گرداند؛ اینجا معنا می‌آید: آنچه مردم می‌گویند و کارت‌ها به واژهٔ دیگری نوشته‌اند.
خلافی ماشین، جریمه ماشین، جریمه رانندگی، جریمه، دوربین = خلافی خودرو
ماشین = خودرو
جواز کسب، جواز مغازه، مجوز مغازه، مغازه، کسب راه، مغازه باز = پروانه کسب
جواز ساخت، مجوز ساخت، مجوز ساختمان، ساخت خانه، خانه ساخت، کلنگی = پروانه ساختمان
شناسنامه بچه، شناسنامه نوزاد، دنیا آمده، بدنیا آمده، تولد بچه، بچه‌دار، نوزاد = ثبت ولادت
شناسنامه گمشده، شناسنامه گم، شناسنامه دزدیده، شناسنامه خراب، شناسنامه فرسوده، شناسنامه جدید = المثنی
سند ماشین، نقل و انتقال ماشین، ماشین فروش، فروش ماشین، ماشین خرید، خرید ماشین، انتقال سند = تعویض پلاک نقل‌وانتقال خودرو
پلاک عوض، عوض پلاک = تعویض پلاک
پایان کار، پایانکار = گواهی پایان کار ساختمان
خلاف خانه، خلاف ساختمان = گواهی عدم خلاف
کنتور برق، برق کشی، برق خانه، برق مغازه = انشعاب برق
کنتور آب، آب وصل، آب خانه، فاضلاب خانه = انشعاب آب
کنتور گاز، گاز کشی، گاز وصل، گاز خانه، لوله کشی گاز = انشعاب گاز
تلفن ثابت، تلفن خانه، تلفن مغازه = خط تلفن ثابت
برق رفته، برق قطع، برق نیست، خاموش = خاموشی
فوتی، گواهی فوت، فوت، مرحوم = ثبت وفات
اسم = نام
عوض نام، نام عوض = تغییر نام
مفاصا، تسویه مالیات، بدهی مالیاتی = مفاصاحساب
اظهارنامه، اظهار درآمد، اظهار مالیات = اظهارنامه مالیات
اولین گواهینامه، گواهینامه اول، 18 سال = صدور گواهینامه پایه سوم
گواهینامه سوخته، گواهینامه باطل، گواهینامه تاریخ گذشته، گواهینامه اعتبار تمام = تمدید گواهینامه
قبض، قبض برق، قبض آب، قبض گاز، قبض تلفن = پرداخت قبض
عوارض خانه، عوارض ملک، عوارض شهرداری = عوارض نوسازی
واردات، صادرات = کارت بازرگانی
driving license, driver's license = گواهینامه رانندگی
";

#[derive(Debug, thiserror::Error)]
pub enum SearchUseError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Index(#[from] SearchError),
}

/// Why a synonym list was not saved.
#[derive(Debug, thiserror::Error)]
pub enum SynonymError {
    #[error("not allowed")]
    Forbidden,
    #[error("{} lines are not valid", .0.len())]
    Invalid(Vec<Problem>),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Index(#[from] SearchError),
}

/// Where the index stands against the database.
#[derive(Debug, Default)]
pub(crate) struct SearchSync {
    /// The newest history entry the index has followed; `None` before the first build.
    cursor: Option<i64>,
    /// When the synonym list was last read (ms), to notice another node's edit.
    synonyms_at: Option<i64>,
}

/// The words a service is found by besides its title and summary.
fn body_text(card: &ServiceCard) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for step in &card.steps {
        parts.push(&step.what.fa);
        parts.push(&step.who.fa);
    }
    for doc in &card.documents {
        parts.push(&doc.name.fa);
    }
    parts.push(&card.output.fa);
    if let Some(unit) = &card.deciding_unit {
        parts.push(&unit.fa);
    }
    let events: Vec<&str> = card
        .events
        .iter()
        .filter_map(|e| pishkhan_domain::catalog::life_event_name_fa(e))
        .collect();
    let mut text = parts.join(" \n ");
    for event in events {
        text.push_str(" \n ");
        text.push_str(event);
    }
    text
}

fn entry(service: &PublishedService, directory: &OrgDirectory) -> Entry {
    let card = &service.card;
    let agency = directory.agency(&card.agency);
    Entry {
        code: card.code.clone(),
        province: agency.map(|a| a.province.clone()),
        agency: card.agency.clone(),
        agency_name: agency.map(|a| a.name_fa.clone()).unwrap_or_default(),
        category: card.category.code().to_owned(),
        events: card.events.clone(),
        channels: card
            .channels
            .iter()
            .map(|c| c.channel.code().to_owned())
            .collect(),
        forms: card.forms.iter().map(|f| f.code.clone()).collect(),
        title_fa: card.title.fa.clone(),
        title_en: card.title.en.clone(),
        summary_fa: card.summary.fa.clone(),
        body: body_text(card),
        processing_days: card.processing_days,
        visits_in_person: card.visits_in_person,
        total_fee_rials: card.total_fee(),
        version: service.version,
        updated_at: service.updated_at.to_rfc3339(),
    }
}

impl App {
    pub(crate) fn search_index(&self) -> &Arc<Catalogue> {
        &self.inner.search
    }

    /// Builds the index from the database (at start; also whenever it is asked before then).
    pub async fn rebuild_search(&self) -> Result<usize, SearchUseError> {
        let mut sync = self.inner.search_sync.lock().await;
        let cursor = self.store().catalogue_cursor().await?;
        let directory = self.store().org_directory().await?;
        // A page at a time: only the summaries are kept, not every card at once.
        let mut entries: Vec<Entry> = Vec::new();
        loop {
            let offset = i64::try_from(entries.len()).unwrap_or(i64::MAX);
            let (services, _) = self
                .published_services(&ServiceFilter::default(), REBUILD_PAGE, offset)
                .await?;
            let done = services.len() < usize::try_from(REBUILD_PAGE).unwrap_or(0);
            entries.extend(services.iter().map(|s| entry(s, &directory)));
            if done {
                break;
            }
        }
        let count = entries.len();
        self.load_synonyms(&mut sync).await?;
        let index = Arc::clone(self.search_index());
        tokio::task::spawn_blocking(move || index.rebuild(entries))
            .await
            .map_err(|e| SearchError::Index(tantivy_error(e.to_string())))??;
        sync.cursor = Some(cursor);
        self.inner.search_ready.store(true, Ordering::Release);
        Ok(count)
    }

    async fn load_synonyms(&self, sync: &mut SearchSync) -> Result<(), SearchUseError> {
        let stored = self.store().synonym_list().await?;
        let at = stored.as_ref().map(|s| s.updated_at.timestamp_millis());
        if sync.synonyms_at.is_some() && sync.synonyms_at == at {
            return Ok(());
        }
        let body = stored.map_or_else(|| DEFAULT_SYNONYMS.to_owned(), |s| s.body);
        // A stored list was checked when saved; if it no longer reads, search goes on without.
        let synonyms = Synonyms::parse(&body).unwrap_or_default();
        self.search_index().set_synonyms(synonyms)?;
        sync.synonyms_at = at.or(Some(0));
        Ok(())
    }

    /// Brings the index up to date with the database: what any node published or retired since
    /// the last refresh, and the synonym list. Returns how many services changed in the index.
    pub async fn refresh_search(&self) -> Result<usize, SearchUseError> {
        if !self.inner.search_ready.load(Ordering::Acquire) {
            return self.rebuild_search().await;
        }
        let mut sync = self.inner.search_sync.lock().await;
        self.load_synonyms(&mut sync).await?;
        let after = sync.cursor.unwrap_or(0);
        let (codes, newest) = self
            .store()
            .catalogue_changes((after - REREAD_WINDOW).max(0))
            .await?;
        let indexed: HashMap<String, i64> = self.search_index().versions();
        let stale = codes.iter().any(|(code, published)| match published {
            Some(version) => indexed.get(code) != Some(version),
            None => indexed.contains_key(code),
        });
        if !stale {
            sync.cursor = Some(newest.max(after));
            return Ok(0);
        }
        let directory = self.store().org_directory().await?;
        let mut entries = Vec::new();
        let mut removed = Vec::new();
        for (code, published) in codes {
            match published {
                Some(version) if indexed.get(&code) != Some(&version) => {
                    if let Some(service) = self.published_service(&code).await? {
                        entries.push(entry(&service, &directory));
                    }
                }
                None if indexed.contains_key(&code) => removed.push(code),
                _ => {}
            }
        }
        let changed = entries.len() + removed.len();
        if changed > 0 {
            // Another node may have published: the portal's cached pages go too.
            self.public_changed();
            let index = Arc::clone(self.search_index());
            tokio::task::spawn_blocking(move || index.update(entries, &removed))
                .await
                .map_err(|e| SearchError::Index(tantivy_error(e.to_string())))??;
        }
        sync.cursor = Some(newest.max(after));
        Ok(changed)
    }

    /// Refreshes the index after a change on this node; a failure is logged, and the next poll
    /// repairs it.
    pub(crate) async fn search_changed(&self) {
        self.public_changed();
        // Before the first build there is nothing to refresh: the build reads everything.
        if !self.inner.search_ready.load(Ordering::Acquire) {
            return;
        }
        if let Err(e) = self.refresh_search().await {
            tracing::warn!(error = %e, "search index refresh failed");
        }
    }

    /// Follows the catalogue until the task is dropped (one per node).
    pub async fn follow_catalogue(self) {
        let mut ticker = tokio::time::interval(SEARCH_POLL_INTERVAL);
        loop {
            ticker.tick().await;
            // Empties the portal's cached pages only when something changed.
            if let Err(e) = self.refresh_search().await {
                tracing::warn!(error = %e, "search index refresh failed");
            }
        }
    }

    async fn ready_index(&self) -> Result<&Arc<Catalogue>, SearchUseError> {
        if !self.inner.search_ready.load(Ordering::Acquire) {
            self.rebuild_search().await?;
        }
        Ok(self.search_index())
    }

    /// The ranked search of the published catalogue.
    pub async fn search_services(
        &self,
        query: &str,
        filter: &Filter,
        offset: usize,
        limit: usize,
    ) -> Result<Found, SearchUseError> {
        let found = self
            .ready_index()
            .await?
            .search(query, filter, offset, limit)?;
        if found.total == 0 && offset == 0 {
            self.note_search_miss(query);
        }
        Ok(found)
    }

    /// Counts a search that found nothing, anonymously: its words as the analyzer reads them,
    /// nothing about who asked. Counted in memory (at most [`MISSES_PER_BEAT`] different ones
    /// between heartbeats, so a flood of random words costs nothing) and added to the database
    /// by [`App::flush_search_misses`].
    fn note_search_miss(&self, query: &str) {
        let words: Vec<String> = pishkhan_search::analyzer::words(query)
            .into_iter()
            .map(|w| w.joined)
            .collect();
        if words.is_empty() {
            return;
        }
        let key = words.join(" ");
        if let Ok(mut misses) = self.inner.search_misses.lock()
            && (misses.len() < MISSES_PER_BEAT || misses.contains_key(&key))
        {
            *misses.entry(key).or_default() += 1;
        }
    }

    /// Adds the searches that found nothing since the last call to the database's counts.
    pub async fn flush_search_misses(&self) -> Result<(), StoreError> {
        let misses: Vec<(String, u32)> = match self.inner.search_misses.lock() {
            Ok(mut misses) => misses.drain().collect(),
            Err(_) => return Ok(()),
        };
        self.store().add_search_misses(&misses, Utc::now()).await
    }

    /// The searches people made that found nothing, most asked first, each with whether it finds
    /// something now (after a synonym was added).
    pub async fn search_misses(
        &self,
        limit: i64,
    ) -> Result<Vec<(pishkhan_store::SearchMiss, bool)>, SearchUseError> {
        let misses = self.store().search_misses(limit).await?;
        let index = self.ready_index().await?;
        let mut out = Vec::with_capacity(misses.len());
        for miss in misses {
            let finds = index.search(&miss.query, &Filter::default(), 0, 1)?.total > 0;
            out.push((miss, finds));
        }
        Ok(out)
    }

    /// Titles to suggest while someone types.
    pub async fn suggest_services(
        &self,
        query: &str,
        filter: &Filter,
        limit: usize,
    ) -> Result<Vec<Arc<Entry>>, SearchUseError> {
        Ok(self.ready_index().await?.suggest(query, filter, limit)?)
    }

    /// Every published service matching the filter, by title (lists without a query: a life
    /// event, a province).
    pub async fn browse_services(
        &self,
        filter: &Filter,
    ) -> Result<Vec<Arc<Entry>>, SearchUseError> {
        Ok(self.ready_index().await?.browse(filter))
    }

    /// The synonym list as stored (or the default one), for the admin's editor.
    pub async fn synonyms_text(
        &self,
    ) -> Result<(String, Option<pishkhan_store::SynonymList>), StoreError> {
        let stored = self.store().synonym_list().await?;
        Ok((
            stored
                .as_ref()
                .map_or_else(|| DEFAULT_SYNONYMS.to_owned(), |s| s.body.clone()),
            stored,
        ))
    }

    /// Replaces the synonym list: checked whole first (every bad line reported), audited, and
    /// in the index at once.
    #[tracing::instrument(skip_all)]
    pub async fn save_synonyms(
        &self,
        principal: &Principal,
        actor: &Actor,
        body: &str,
    ) -> Result<usize, SynonymError> {
        let staff = matches!(principal, Principal::Staff(_));
        if !staff
            || !NATIONAL_SETTINGS_EDITORS
                .iter()
                .any(|r| principal.holds_nationally(*r))
        {
            return Err(SynonymError::Forbidden);
        }
        let synonyms = Synonyms::parse(body).map_err(SynonymError::Invalid)?;
        let rules = synonyms.rules().len();
        let audit = crate::audit::audit_entry(
            actor,
            "search.synonyms_saved",
            ("search", "synonyms"),
            serde_json::json!({ "rules": rules }),
        );
        self.store()
            .save_synonym_list(body, &actor.id, Utc::now(), &audit)
            .await?;
        let mut sync = self.inner.search_sync.lock().await;
        sync.synonyms_at = None;
        self.load_synonyms(&mut sync).await.map_err(|e| match e {
            SearchUseError::Store(e) => SynonymError::Store(e),
            SearchUseError::Index(e) => SynonymError::Index(e),
        })?;
        Ok(rules)
    }
}

fn tantivy_error(message: String) -> pishkhan_search::TantivyError {
    pishkhan_search::TantivyError::InternalError(message)
}
