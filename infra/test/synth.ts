// Shared synthesis for the infra tests: each test file synthesizes a variant once and asserts on the result. Lambda
// code is a placeholder (bundling has its own test) and asset staging is off, which keeps a synth to about a second.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { buildApp, nagPacks, type ShopflowApp } from '../lib/app.ts';
import { REPO_ROOT } from '../lib/functions.ts';

export const ACCOUNT = '111111111111';

function cdkJsonContext(): Record<string, unknown> {
  return JSON.parse(readFileSync(resolve(REPO_ROOT, 'infra/cdk.json'), 'utf8')).context;
}

export interface Synthesized extends ShopflowApp {
  template: Template;
  replicaTemplate: Template;
  dispose(): void;
}

export function synth(context: Record<string, unknown> = {}, options: { bundle?: boolean } = {}): Synthesized {
  const outdir = mkdtempSync(join(tmpdir(), 'shopflow-cdk-'));
  const built = buildApp(
    {
      outdir,
      context: {
        ...cdkJsonContext(),
        account: ACCOUNT,
        region: 'us-east-1',
        inlineLambdaCode: !options.bundle,
        ...(options.bundle ? {} : { 'aws:cdk:disable-asset-staging': true }),
        ...context,
      },
    },
    // the caller's AWS environment must not leak into a test
    {},
  );
  return {
    ...built,
    template: Template.fromStack(built.main),
    replicaTemplate: Template.fromStack(built.replica),
    dispose: () => rmSync(outdir, { recursive: true, force: true }),
  };
}

export interface NagFinding {
  rule: string;
  severity: string;
  paths: string[];
}

export function nagFindings(scope: IConstruct): NagFinding[] {
  return nagPacks().flatMap((pack) =>
    pack.validateScope(scope).violations.map((v) => ({
      rule: v.ruleName,
      severity: v.severity ?? 'error',
      paths: v.violatingResources.map((r) => r.constructPath ?? ''),
    })),
  );
}

/** Every acknowledgement in the tree, with its reason. */
export function acknowledgements(scope: IConstruct): { path: string; id: string; reason: string }[] {
  return scope.node
    .findAll()
    .flatMap((c) =>
      c.node.metadata
        .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((m) =>
          Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ path: c.node.path, id, reason })),
        ),
    );
}

// biome-ignore lint/suspicious/noExplicitAny: synthesized CloudFormation is untyped JSON, navigated freely in assertions
export type Json = any;

type Resources = Record<string, { Type: string; Properties?: Record<string, Json>; [k: string]: Json }>;

export function resources(t: Template, type: string): Resources {
  return t.findResources(type) as Resources;
}

export function only<T>(o: Record<string, T>): [string, T] {
  const entries = Object.entries(o);
  if (entries.length !== 1) throw new Error(`expected exactly one, found ${entries.length}`);
  return entries[0]!;
}

/** The logical id of the single resource of a type whose properties include `match`. */
export function logicalIdOf(t: Template, type: string, match: (props: Record<string, Json>) => boolean): string {
  const found = Object.entries(resources(t, type)).filter(([, r]) => match(r.Properties ?? {}));
  if (found.length !== 1) throw new Error(`expected one ${type} matching, found ${found.length}`);
  return found[0]![0];
}

/** All IAM policy statements of a template (standalone policies and inline role policies). */
export function iamStatements(t: Template): { owner: string; statement: Record<string, Json> }[] {
  const out: { owner: string; statement: Record<string, Json> }[] = [];
  for (const [id, r] of Object.entries(resources(t, 'AWS::IAM::Policy'))) {
    for (const s of r.Properties?.PolicyDocument?.Statement ?? []) out.push({ owner: id, statement: s });
  }
  for (const [id, r] of Object.entries(resources(t, 'AWS::IAM::Role'))) {
    for (const p of r.Properties?.Policies ?? []) {
      for (const s of p.PolicyDocument?.Statement ?? []) out.push({ owner: id, statement: s });
    }
  }
  return out;
}

export const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Egress rules of a security group, inline and standalone, as `from-to->destination` strings. */
export function egressOf(t: Template, sgId: string): string[] {
  const sg = resources(t, 'AWS::EC2::SecurityGroup')[sgId]!.Properties!;
  const rules = [
    ...asArray<Json>(sg.SecurityGroupEgress),
    ...Object.values(resources(t, 'AWS::EC2::SecurityGroupEgress'))
      .filter((e) => e.Properties!.GroupId['Fn::GetAtt'][0] === sgId)
      .map((e) => e.Properties!),
  ];
  return rules
    .map(
      (e) =>
        `${e.FromPort}-${e.ToPort}->${e.DestinationSecurityGroupId?.['Fn::GetAtt'][0] ?? e.CidrIp ?? e.DestinationPrefixListId}`,
    )
    .sort();
}
