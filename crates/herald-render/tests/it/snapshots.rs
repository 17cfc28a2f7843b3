//! Every default template in every language, rendered with the sample data, so a
//! reviewer reads the letters a customer would get and any change shows in a diff.

use herald_core::Locale;
use herald_render::{TemplateSet, sample_context};

#[test]
fn default_templates_as_customers_see_them() {
    let set = TemplateSet::builtin();
    for name in set.names() {
        for locale in Locale::ALL {
            let m = set
                .render(&name, locale, locale, &sample_context(&name, locale))
                .unwrap();
            assert_eq!(m.locale, locale);
            let shown = format!(
                "subject: {}\n\n---- txt ----\n{}\n\n---- sms ----\n{}\n\n---- html ----\n{}\n",
                m.subject,
                m.text,
                m.sms.as_deref().unwrap_or("(none)"),
                m.html
            );
            insta::with_settings!({ snapshot_path => "snapshots", prepend_module_to_snapshot => false }, {
                insta::assert_snapshot!(format!("{name}-{locale}"), shown);
            });
        }
    }
}
