/**
 * The published behaviour models (bench/workloads/data/*.csv, see its README for sources),
 * loaded and checked. Nothing here reads outside this project.
 */
import { readFileSync } from 'node:fs'

/** The 14 TPC-W web interactions, by their usual four-letter names. */
export const TPCW_PAGES = [
  'HOME',
  'NEWP',
  'BESS',
  'PROD',
  'SREQ',
  'SRES',
  'SHOP',
  'CREG',
  'BUYR',
  'BUYC',
  'ORDI',
  'ORDD',
  'ADMR',
  'ADMC',
] as const
export type TpcwPage = (typeof TPCW_PAGES)[number]

/** The 27 RUBiS pages, named as in the RUBiS transition table (`StoreBuyBow` sic). */
export const RUBIS_PAGES = [
  'Home',
  'Register',
  'RegisterUser',
  'Browse',
  'BrowseCategories',
  'SearchItemsInCategory',
  'BrowseRegions',
  'BrowseCategoriesInRegion',
  'SearchItemsInRegion',
  'ViewItem',
  'ViewUserInfo',
  'ViewBidHistory',
  'BuyNowAuth',
  'BuyNow',
  'StoreBuyBow',
  'PutBidAuth',
  'PutBid',
  'StoreBid',
  'PutCommentAuth',
  'PutComment',
  'StoreComment',
  'Sell',
  'SelectCategoryToSellItem',
  'SellItemForm',
  'RegisterItem',
  'AboutMe (auth form)',
  'AboutMe',
] as const
export type RubisPage = (typeof RUBIS_PAGES)[number]

/** RUBiS pseudo-states: the browser's back button, leaving the site, reloading the page. */
export const BACK = 'BACK'
export const END_OF_SESSION = 'END_OF_SESSION'
export const STAY = 'STAY'

export type MatrixName = 'tpcw-browsing' | 'tpcw-shopping' | 'rubis-bidding'

/** A row-stochastic transition matrix as published. */
export interface TransitionMatrix {
  /** Which file it came from. */
  name: MatrixName
  /** Row labels: the state a user is in, in file order. */
  from: readonly string[]
  /** Column labels: the next state (pages and, for RUBiS, BACK / END_OF_SESSION / STAY). */
  to: readonly string[]
  /** `probs[i][j]`: probability of going from `from[i]` to `to[j]`; each row sums to 1 (±0.0002). */
  probs: readonly (readonly number[])[]
}

/** How far a row's sum may be from 1: the TPC-W rows are four-decimal roundings of k/9999. */
const ROW_SUM_TOLERANCE = 2e-4

/** Parses the CSV format of bench/workloads/data (lines starting with `#` are comments). */
export function parseMatrixCsv(text: string, name: MatrixName): TransitionMatrix {
  const lines = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
  const [header, ...rows] = lines
  if (!header?.startsWith('from\\to,')) throw new Error(`${name}: expected a "from\\to,..." header row`)
  const to = header.split(',').slice(1)
  const from: string[] = []
  const probs: number[][] = []
  for (const row of rows) {
    const [label, ...cells] = row.split(',')
    if (cells.length !== to.length) throw new Error(`${name}: row ${label} has ${cells.length} values, expected ${to.length}`)
    const values = cells.map((cell) => {
      const value = Number(cell)
      if (!Number.isFinite(value) || value < 0 || value > 1) throw new Error(`${name}: row ${label}: not a probability: ${cell}`)
      return value
    })
    const sum = values.reduce((a, b) => a + b, 0)
    if (Math.abs(sum - 1) > ROW_SUM_TOLERANCE) throw new Error(`${name}: row ${label} sums to ${sum}, not 1`)
    from.push(label)
    probs.push(values)
  }
  return { name, from, to, probs }
}

const dataFile = (file: string) => new URL(`./data/${file}`, import.meta.url)

/** Loads one published matrix and checks that its states are the ones the benchmark knows. */
export function loadMatrix(name: MatrixName): TransitionMatrix {
  const matrix = parseMatrixCsv(readFileSync(dataFile(`${name}.csv`), 'utf8'), name)
  const expected =
    name === 'rubis-bidding'
      ? { from: [...RUBIS_PAGES], to: [...RUBIS_PAGES, BACK, END_OF_SESSION, STAY] }
      : { from: ['INIT', ...TPCW_PAGES], to: ['INIT', ...TPCW_PAGES] }
  const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && b.every((s) => a.includes(s))
  if (!sameSet(matrix.from, expected.from) || !sameSet(matrix.to, expected.to)) {
    throw new Error(`${name}: the file's states are not the expected ${expected.from.join(', ')}`)
  }
  return matrix
}

/** The published TPC-W page mixes, in percent of all pages. */
export function loadTpcwPublishedMix(): Record<'browsing' | 'shopping', Record<TpcwPage, number>> {
  const lines = readFileSync(dataFile('tpcw-mix.csv'), 'utf8')
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
  const [header, ...rows] = lines
  if (header !== 'page,browsing,shopping') throw new Error('tpcw-mix.csv: unexpected header')
  const browsing = {} as Record<TpcwPage, number>
  const shopping = {} as Record<TpcwPage, number>
  for (const row of rows) {
    const [page, b, s] = row.split(',')
    if (!(TPCW_PAGES as readonly string[]).includes(page)) throw new Error(`tpcw-mix.csv: unknown page ${page}`)
    browsing[page as TpcwPage] = Number(b)
    shopping[page as TpcwPage] = Number(s)
  }
  if (Object.keys(browsing).length !== TPCW_PAGES.length) throw new Error('tpcw-mix.csv: a page is missing')
  return { browsing, shopping }
}
