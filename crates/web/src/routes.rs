//! Every route of Trellis in one table, each with the [`Access`] rule it is
//! declared with. The router is built from this table, and the
//! authorization-matrix test walks the same table, so no route escapes it.

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, MethodRouter, on};
pub use trellis_core::access::Access;

use crate::state::AppState;

pub struct Route {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
    handler: MethodRouter<AppState>,
}

impl Route {
    fn on<H, T>(
        method: Method,
        filter: MethodFilter,
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Route
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        Route {
            method,
            path,
            access,
            handler: on(filter, handler),
        }
    }

    pub fn get<H: Handler<T, AppState>, T: 'static>(
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Route {
        Self::on(Method::GET, MethodFilter::GET, path, access, handler)
    }

    pub fn post<H: Handler<T, AppState>, T: 'static>(
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Route {
        Self::on(Method::POST, MethodFilter::POST, path, access, handler)
    }

    pub fn patch<H: Handler<T, AppState>, T: 'static>(
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Route {
        Self::on(Method::PATCH, MethodFilter::PATCH, path, access, handler)
    }

    pub fn delete<H: Handler<T, AppState>, T: 'static>(
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Route {
        Self::on(Method::DELETE, MethodFilter::DELETE, path, access, handler)
    }
}

/// A route as the matrix test sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSpec {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
}

pub fn table() -> Vec<Route> {
    let mut routes = crate::pages::routes();
    routes.extend(crate::api::routes());
    routes.extend(crate::operations_routes());
    routes
}

/// Every route: method, path and declared access.
pub fn specs() -> Vec<RouteSpec> {
    table()
        .into_iter()
        .map(|route| RouteSpec {
            method: route.method,
            path: route.path,
            access: route.access,
        })
        .collect()
}

/// One axum route per path, with all its methods.
pub fn build(routes: Vec<Route>) -> Router<AppState> {
    let mut by_path: Vec<(&'static str, MethodRouter<AppState>)> = Vec::new();
    for route in routes {
        match by_path.iter_mut().find(|(path, _)| *path == route.path) {
            Some((_, existing)) => {
                let merged = std::mem::take(existing).merge(route.handler);
                *existing = merged;
            }
            None => by_path.push((route.path, route.handler)),
        }
    }
    by_path
        .into_iter()
        .fold(Router::new(), |router, (path, handler)| {
            router.route(path, handler)
        })
}
