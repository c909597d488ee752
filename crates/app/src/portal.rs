//! What the public portal reads on every visit, cached: a service page's data and the provinces.

use std::sync::Arc;

use pishkhan_store::{Province, StoreError};

use crate::App;
use crate::catalog::PublishedService;
use crate::plan::PublicAgency;

/// Everything a service page shows.
#[derive(Debug)]
pub struct ServicePage {
    pub service: PublishedService,
    pub agency: Option<PublicAgency>,
    /// Each form the card names: (code, title).
    pub forms: Vec<(String, String)>,
    /// The service centres of the agency's province, where a centre may file it, by name.
    pub centres: Vec<pishkhan_store::CentrePlace>,
}

impl App {
    /// A published service with its agency and forms (cached; see `cache.rs`).
    pub async fn service_page(&self, code: &str) -> Result<Option<Arc<ServicePage>>, StoreError> {
        if let Some(page) = self.inner.pages.get(code) {
            return Ok(Some(page));
        }
        let Some(service) = self.published_service(code).await? else {
            return Ok(None);
        };
        let agency = self.public_agency(&service.card.agency).await?;
        let mut forms = Vec::new();
        for form in &service.card.forms {
            let title = self
                .form(&form.code, None)
                .await?
                .map(|(f, _)| f.title.fa)
                .unwrap_or_else(|| form.code.clone());
            forms.push((form.code.clone(), title));
        }
        let centres = match &agency {
            Some(a) => self.store().centre_places(Some(&a.province)).await?,
            None => Vec::new(),
        };
        let page = Arc::new(ServicePage {
            service,
            agency,
            forms,
            centres,
        });
        self.inner.pages.put(code, Arc::clone(&page));
        Ok(Some(page))
    }

    /// The service centres of a province (every province's when `None`), with where they are
    /// and when they are open.
    pub async fn centre_places(
        &self,
        province: Option<&str>,
    ) -> Result<Vec<pishkhan_store::CentrePlace>, StoreError> {
        self.store().centre_places(province).await
    }

    /// The provinces, as the portal lists them (cached).
    pub async fn public_provinces(&self) -> Result<Arc<Vec<Province>>, StoreError> {
        if let Some(provinces) = self.inner.provinces.get("") {
            return Ok(provinces);
        }
        let provinces = Arc::new(self.store().provinces().await?);
        self.inner.provinces.put("", Arc::clone(&provinces));
        Ok(provinces)
    }

    /// Something the portal shows changed on this node: read it again.
    pub(crate) fn public_changed(&self) {
        self.inner.pages.clear();
        self.inner.provinces.clear();
    }
}
