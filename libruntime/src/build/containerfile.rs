//! A parsed Containerfile: the ARGs before the first FROM, and the stages.

use super::instruction::{self, Instruction, Step};
use super::lines;
use super::ParseError;

#[derive(Debug, Clone)]
pub struct Stage {
    pub index: usize,
    pub name: Option<String>,
    /// The FROM line's image (unexpanded), a stage name, or `scratch`.
    pub base: String,
    pub platform: Option<String>,
    pub line: usize,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone)]
pub struct Containerfile {
    pub escape: char,
    /// `ARG`s before the first FROM: (name, default).
    pub global_args: Vec<(String, Option<String>)>,
    pub stages: Vec<Stage>,
}

impl Containerfile {
    pub fn parse(text: &str) -> Result<Containerfile, ParseError> {
        let (directives, raw) = lines::split(text)?;
        let escape = directives.escape;
        let mut global_args = Vec::new();
        let mut stages: Vec<Stage> = Vec::new();
        for r in &raw {
            let step = instruction::parse(r, escape)?;
            match step.instruction {
                Instruction::From {
                    image,
                    name,
                    platform,
                } => {
                    if let Some(n) = &name {
                        if stages.iter().any(|s| s.name.as_ref() == Some(n)) {
                            return Err(ParseError::at(
                                r.line,
                                format!("duplicate stage name {n:?}"),
                            ));
                        }
                    }
                    stages.push(Stage {
                        index: stages.len(),
                        name,
                        base: image,
                        platform,
                        line: r.line,
                        steps: Vec::new(),
                    });
                }
                Instruction::Arg(a) if stages.is_empty() => global_args.extend(a),
                _ => match stages.last_mut() {
                    Some(s) => s.steps.push(step),
                    None => {
                        return Err(ParseError::at(
                            r.line,
                            format!(
                                "{} before the first FROM: only ARG may come before FROM",
                                r.keyword
                            ),
                        ))
                    }
                },
            }
        }
        if stages.is_empty() {
            return Err(ParseError::at(
                0,
                "no FROM instruction: nothing to build".into(),
            ));
        }
        Ok(Containerfile {
            escape,
            global_args,
            stages,
        })
    }

    /// The stage that a name or index refers to, if any.
    pub fn stage(&self, key: &str) -> Option<&Stage> {
        let key = key.to_ascii_lowercase();
        self.stages
            .iter()
            .find(|s| s.name.as_deref() == Some(key.as_str()))
            .or_else(|| key.parse::<usize>().ok().and_then(|i| self.stages.get(i)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_and_errors() {
        let f = Containerfile::parse(
            "ARG BASE=busybox\nFROM $BASE AS build\nRUN make\nFROM scratch\nCOPY --from=build /out /\n",
        )
        .unwrap();
        assert_eq!(f.global_args, vec![("BASE".into(), Some("busybox".into()))]);
        assert_eq!(f.stages.len(), 2);
        assert_eq!(f.stage("build").unwrap().index, 0);
        assert_eq!(f.stage("1").unwrap().base, "scratch");
        let e = Containerfile::parse("FROM a\nRUN\n").unwrap_err();
        assert_eq!(e.line, 2);
        let e = Containerfile::parse("RUN x\n").unwrap_err();
        assert_eq!(e.line, 1);
        let e = Containerfile::parse("FROM a\nSHELL sh -c\n").unwrap_err();
        assert!(e.message.contains("JSON"));
        let e = Containerfile::parse("FROM a\nCOPY --bogus=1 a b\n").unwrap_err();
        assert!(e.message.contains("unknown flag"));
        let e = Containerfile::parse("FROM a\n\n\nFROBNICATE x\n").unwrap_err();
        assert_eq!(
            (e.line, e.message.as_str()),
            (4, "unknown instruction: FROBNICATE")
        );
        assert!(Containerfile::parse("# just a comment\n").is_err());
    }

    /// One instruction of each kind, as written, and what it parses to.
    #[test]
    fn instructions_parse_to_their_typed_form() {
        use crate::build::instruction::{Command, CopyArgs, Instruction as I};
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let kv = |k: &str, v: &str| (k.to_string(), v.to_string());
        let cases: Vec<(&str, I)> = vec![
            (
                "FROM --platform=linux/amd64 busybox AS b",
                I::From {
                    image: "busybox".into(),
                    name: Some("b".into()),
                    platform: Some("linux/amd64".into()),
                },
            ),
            (
                "RUN echo hi",
                I::Run {
                    command: Command::Shell("echo hi".into()),
                    mounts: vec![],
                    network: None,
                },
            ),
            (
                r#"CMD ["sh", "-c", "x"]"#,
                I::Cmd(Command::Exec(s(&["sh", "-c", "x"]))),
            ),
            (
                r#"ENTRYPOINT ["/bin/app"]"#,
                I::Entrypoint(Command::Exec(s(&["/bin/app"]))),
            ),
            (
                "ENV A=1 B=\"two words\"",
                I::Env(vec![kv("A", "1"), kv("B", "\"two words\"")]),
            ),
            (
                "ENV OLD style value",
                I::Env(vec![kv("OLD", "style value")]),
            ),
            ("LABEL a=b", I::Label(vec![kv("a", "b")])),
            ("ARG V=3", I::Arg(vec![("V".into(), Some("3".into()))])),
            ("WORKDIR /srv", I::Workdir("/srv".into())),
            ("USER 1000:1000", I::User("1000:1000".into())),
            ("EXPOSE 80/tcp", I::Expose("80/tcp".into())),
            ("STOPSIGNAL SIGINT", I::Stopsignal("SIGINT".into())),
            (
                r#"VOLUME ["/data", "/logs"]"#,
                I::Volume(s(&["/data", "/logs"])),
            ),
            ("HEALTHCHECK NONE", I::Healthcheck(None)),
            (
                "COPY --chown=1:2 a b /dst/",
                I::Copy(CopyArgs {
                    chown: Some("1:2".into()),
                    sources: s(&["a", "b"]),
                    dest: "/dst/".into(),
                    ..Default::default()
                }),
            ),
        ];
        for (line, want) in cases {
            let text = if line.starts_with("FROM") {
                format!("{line}\n")
            } else {
                format!("FROM scratch\n{line}\n")
            };
            let f = Containerfile::parse(&text).unwrap_or_else(|e| panic!("{line}: {e}"));
            let got = if line.starts_with("FROM") {
                let st = &f.stages[0];
                I::From {
                    image: st.base.clone(),
                    name: st.name.clone(),
                    platform: st.platform.clone(),
                }
            } else {
                f.stages[0].steps[0].instruction.clone()
            };
            assert_eq!(got, want, "{line}");
        }
    }
}
