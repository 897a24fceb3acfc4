// `queuewatch routes test key=value ...`: which rule a case with those attributes falls under and
// which audiences it reaches at each level, like `amtool config routes test`.

import { Command } from 'commander';
import type { CaseKey, CompiledConfig } from '../config/compile.ts';
import { LEVELS, type Level } from '../config/schema.ts';
import { isOpenStage, RISK_LEVELS, STAGES, type Stage } from '../domain/case.ts';
import { loadConfigOption, print, UsageError } from './output.ts';

const KEYS = ['category', 'riskLevel', 'stage', 'childrenInvolved', 'district', 'level'] as const;

export interface RouteTest {
  case: CaseKey;
  localAuthority: string;
  rule: { id: string; warn: string; breach: string; escalate: string };
  levels: Array<{ level: Level; audiences: readonly string[]; routes: number[]; fallback: boolean }>;
  /** The absolute ceiling, which applies on top of the case's own rule. */
  ceiling?: {
    rule: { id: string; warn: string; breach: string; escalate: string };
    levels: Array<{ level: Level; audiences: readonly string[]; routes: number[]; fallback: boolean }>;
  };
  assumed: string[];
}

export function testRoutes(config: CompiledConfig, pairs: string[]): RouteTest {
  const given = new Map<string, string>();
  for (const pair of pairs) {
    const [key, ...rest] = pair.split('=');
    const value = rest.join('=');
    if (!key || rest.length === 0 || value === '') throw new UsageError(`'${pair}' is not key=value`);
    if (!(KEYS as readonly string[]).includes(key)) {
      throw new UsageError(`unknown key '${key}' (use ${KEYS.join(', ')})`);
    }
    given.set(key, value);
  }
  const assumed: string[] = [];
  const take = (key: string, fallback?: string): string => {
    const value = given.get(key);
    if (value !== undefined) return value;
    if (fallback === undefined) throw new UsageError(`missing ${key}=... (needed to choose a rule)`);
    assumed.push(`${key}=${fallback}`);
    return fallback;
  };
  const category = take('category');
  if (!config.file.categories.includes(category)) {
    throw new UsageError(`unknown category '${category}' (known: ${config.file.categories.join(', ')})`);
  }
  const riskLevel = take('riskLevel');
  if (!(RISK_LEVELS as readonly string[]).includes(riskLevel)) {
    throw new UsageError(`riskLevel must be one of ${RISK_LEVELS.join(', ')}`);
  }
  const stage = take('stage', 'awaiting-risk-assessment');
  if (!(STAGES as readonly string[]).includes(stage))
    throw new UsageError(`stage must be one of ${STAGES.join(', ')}`);
  if (!isOpenStage(stage as Stage)) throw new UsageError(`stage '${stage}' is not open: it raises nothing`);
  const children = take('childrenInvolved', 'false');
  if (children !== 'true' && children !== 'false')
    throw new UsageError('childrenInvolved must be true or false');
  const district = take('district');
  if (!config.file.districts[district]) {
    throw new UsageError(
      `unknown district '${district}' (known: ${Object.keys(config.file.districts).join(', ')})`,
    );
  }
  const levelFilter = given.get('level');
  if (levelFilter !== undefined && !(LEVELS as readonly string[]).includes(levelFilter)) {
    throw new UsageError(`level must be one of ${LEVELS.join(', ')}`);
  }
  const key: CaseKey = {
    category,
    riskLevel: riskLevel as CaseKey['riskLevel'],
    stage: stage as Stage,
    childrenInvolved: children === 'true',
    district,
  };
  const levels = LEVELS.filter((l) => levelFilter === undefined || l === levelFilter);
  const rule = config.ruleFor(key);
  if (!rule) throw new UsageError('no rule matches (the config has no catch-all?)');
  return {
    case: key,
    localAuthority: config.localAuthorityOf(district),
    rule: { id: rule.id, warn: rule.warn.text, breach: rule.breach.text, escalate: rule.escalate.text },
    levels: levels.map((level) => {
      const routes = config.matchingRoutes(key, level);
      return { level, audiences: config.audiencesFor(key, level), routes, fallback: routes.length === 0 };
    }),
    ...(rule === config.ceiling
      ? {}
      : {
          ceiling: {
            rule: {
              id: config.ceiling.id,
              warn: config.ceiling.warn.text,
              breach: config.ceiling.breach.text,
              escalate: config.ceiling.escalate.text,
            },
            levels: levels.map((level) => {
              const routes = config.matchingCeilingRoutes(key, level);
              return {
                level,
                audiences: config.ceilingAudiencesFor(key, level),
                routes,
                fallback: routes.length === 0,
              };
            }),
          },
        }),
    assumed,
  };
}

export function routesCommand(): Command {
  const routes = new Command('routes').description('Explore the routing tree');
  routes
    .command('test')
    .description('Show the rule and the audiences a case with these attributes reaches at each level')
    .argument('<key=value...>', `case attributes: ${KEYS.join(', ')}`)
    .option('-c, --config <file>', 'config file (default: the shipped config)')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExample:\n  queuewatch routes test category=child-protection riskLevel=high stage=awaiting-referral childrenInvolved=true district=D03',
    )
    .action((pairs: string[], options: { config?: string; json?: boolean }) => {
      const result = testRoutes(loadConfigOption(options.config), pairs);
      if (options.json) {
        print(JSON.stringify(result, null, 2));
        return;
      }
      const c = result.case;
      print(
        `case: category=${c.category} riskLevel=${c.riskLevel} stage=${c.stage} childrenInvolved=${c.childrenInvolved} district=${c.district} (local authority ${result.localAuthority})`,
      );
      if (result.assumed.length > 0) print(`assumed: ${result.assumed.join(' ')}`);
      print(
        `rule: ${result.rule.id} (warn ${result.rule.warn}, breach ${result.rule.breach}, escalate ${result.rule.escalate})`,
      );
      const printLevels = (levels: RouteTest['levels']) => {
        for (const l of levels) {
          const via = l.fallback ? 'fallback audience: no route matched' : `routes ${l.routes.join(', ')}`;
          print(`  ${l.level.padEnd(10)} -> ${l.audiences.join(', ')}  (${via})`);
        }
      };
      printLevels(result.levels);
      if (result.ceiling) {
        const c = result.ceiling.rule;
        print(
          `and the absolute ceiling, for every open case: ${c.id} (warn ${c.warn}, breach ${c.breach}, escalate ${c.escalate})`,
        );
        printLevels(result.ceiling.levels);
      }
    });
  return routes;
}
