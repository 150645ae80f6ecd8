//! Top-level items: which kind a pair is, and the items that are one line or one C block.

use super::{children, Builder, Rule};
use crate::syntax::ast::*;
use pest::iterators::Pair;

impl Builder {
    /// The item a pair is, or `None` for a pair that is no item.
    pub(super) fn item(&mut self, pair: Pair<'_, Rule>) -> Option<Item> {
        let span = self.span(&pair);
        Some(match pair.as_rule() {
            Rule::patch_block => Item::Patch(self.patch(pair)?),
            Rule::target_block => Item::Target(self.target(pair)?),
            Rule::import_item => {
                let inner = children(pair).next()?;
                let path = match inner.as_rule() {
                    Rule::string => ImportPath::Relative(self.string(inner)),
                    _ => ImportPath::Std(self.word(&inner)),
                };
                Item::Import(Import { span, path })
            }
            Rule::include_item => {
                let header = self.word(&children(pair).next()?);
                Item::Include(Include { span, header })
            }
            Rule::fix_item => {
                let diff = self.diff_text(children(pair).next()?)?;
                Item::Fix(Fix { span, diff })
            }
            Rule::object_block => Item::Object(self.object(pair)?),
            Rule::shadow_block => Item::Shadow(self.shadow(pair)?),
            Rule::template_block => {
                let mut inner = children(pair);
                let name = self.word(&inner.next()?);
                let entries = inner
                    .map(|p| self.shadow_entry(p, "template"))
                    .collect::<Option<_>>()?;
                Item::Template(TemplateBlock {
                    span,
                    name,
                    entries,
                })
            }
            Rule::state_block => Item::State(self.state(pair)?),
            Rule::helper_item => {
                let mut inner = children(pair);
                let prototype = self.prototype(inner.next()?)?;
                let body = self.c_block(inner.next()?)?;
                Item::Helper(Helper {
                    span,
                    prototype,
                    body,
                })
            }
            Rule::data_item => {
                let body = self.c_block(children(pair).next()?)?;
                Item::Data(Data { span, body })
            }
            Rule::api_item => {
                let mut inner = children(pair);
                let feature = self.word(&inner.next()?);
                let since = self.word(&inner.next()?);
                Item::Api(ApiEntry {
                    span,
                    feature,
                    since,
                })
            }
            Rule::test_block => Item::Test(self.test(pair)?),
            Rule::requires_item => Item::Requires(self.requirement(pair)?),
            Rule::bad_item => {
                self.bad_item(&pair);
                Item::Bad(Bad {
                    text: pair.as_str().to_string(),
                    span,
                })
            }
            _ => return None,
        })
    }
}
