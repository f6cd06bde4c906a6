"""Write examples/gene_ranking/data.jsonl: case reports of well-known Mendelian disorders
(written from textbook knowledge, no patient data) and made-up model outputs of varying
quality for each: the causal gene first, second, third or absent, a list stuffed with every
gene the model knows, prose, JSON, an alias, a duplicate, a lookalike, no list at all.

    python examples/gene_ranking/make_data.py     # rewrites data.jsonl next to this file
"""

from __future__ import annotations

import json
from pathlib import Path

# id, disorder (not shown to the model), case report, causal gene(s), differential (plausible but wrong), an alias
CASES = [
    ("cf", "cystic fibrosis",
     "A 2-year-old boy has had recurrent pneumonias with Pseudomonas aeruginosa, bulky greasy stools and poor "
     "weight gain since birth; he had meconium ileus as a newborn. His parents say he tastes salty when kissed. "
     "Sweat chloride is 85 mmol/L on two occasions.",
     ["CFTR"], ["SCNN1B", "DNAH5", "SERPINA1"], "ABCC7"),
    ("marfan", "Marfan syndrome",
     "A 17-year-old, 198 cm tall basketball player has long fingers (positive thumb and wrist signs), pectus "
     "excavatum, upward lens dislocation in both eyes and an aortic root diameter of 4.6 cm. His father died "
     "suddenly at 40 of an aortic dissection.",
     ["FBN1"], ["TGFBR2", "CBS", "COL3A1"], "MFS1"),
    ("dmd", "Duchenne muscular dystrophy",
     "A 5-year-old boy walks on his toes, falls often and climbs up his legs with his hands to stand (Gowers "
     "sign). His calves are enlarged and firm. Creatine kinase is 18,000 U/L. A maternal uncle used a "
     "wheelchair from age 11.",
     ["DMD"], ["SGCA", "CAPN3", "FKRP"], "BMD"),
    ("huntington", "Huntington disease",
     "A 42-year-old woman has two years of irritability, depression and clumsiness, and now has involuntary "
     "dance-like movements of her face and limbs. Her father had similar symptoms beginning in his fifties; "
     "MRI shows caudate atrophy.",
     ["HTT"], ["JPH3", "ATN1", "C9orf72"], "IT15"),
    ("sickle", "sickle cell disease",
     "A 9-month-old boy of West African descent has painful swelling of both hands and feet. He is pale, with "
     "haemoglobin 7.5 g/dL, a high reticulocyte count and elongated crescent-shaped red cells on the smear.",
     ["HBB"], ["HBA1", "G6PD", "PKLR"], "beta-globin"),
    ("pku", "phenylketonuria",
     "An 18-month-old girl born abroad without newborn screening has developmental delay, eczema, fair hair "
     "and skin lighter than her siblings, seizures, and a musty odour of the urine. Plasma phenylalanine is "
     "1,800 umol/L with normal biopterin metabolites.",
     ["PAH"], ["PTS", "QDPR", "GCH1"], "PKU1"),
    ("nf1", "neurofibromatosis type 1",
     "A 10-year-old girl has eight cafe-au-lait macules larger than 5 mm, freckling in both armpits, soft "
     "skin-coloured nodules on her trunk and pigmented iris hamartomas on slit-lamp examination. Her mother "
     "has similar skin findings.",
     ["NF1"], ["SPRED1", "NF2", "PTPN11"], "VRNF"),
    ("hemophilia-a", "haemophilia A",
     "A 14-month-old boy has a swollen, painful knee after a minor fall and large bruises since he started "
     "crawling. aPTT is prolonged and corrects on mixing; PT and platelet count are normal. His mother's "
     "brother bled heavily after a tooth extraction.",
     ["F8"], ["F9", "VWF", "F11"], "FVIII"),
    ("tay-sachs", "Tay-Sachs disease",
     "A 7-month-old infant of Ashkenazi Jewish descent, normal at birth, has lost the ability to sit, startles "
     "excessively at sounds and has a cherry-red spot in each macula. Liver and spleen are not enlarged.",
     ["HEXA"], ["HEXB", "GM2A", "GLB1"], "TSD"),
    ("fragile-x", "fragile X syndrome",
     "A 12-year-old boy has moderate intellectual disability, poor eye contact, hand flapping, a long narrow "
     "face, large protruding ears and enlarged testes. His mother had premature ovarian insufficiency at 35.",
     ["FMR1"], ["AFF2", "UBE3A", "MECP2"], "FRAXA"),
    ("li-fraumeni", "Li-Fraumeni syndrome",
     "A 29-year-old woman has breast cancer. She had an osteosarcoma at 14; her brother had an adrenocortical "
     "carcinoma at 3 and her father a brain tumour at 38.",
     ["TP53"], ["BRCA2", "CHEK2", "PTEN"], "p53"),
    ("hemochromatosis", "hereditary haemochromatosis",
     "A 52-year-old man of Irish descent has fatigue, joint pain in the second and third knuckles, new "
     "diabetes and bronze skin. Transferrin saturation is 78% and ferritin 2,400 ug/L; liver biopsy shows "
     "iron in hepatocytes.",
     ["HFE"], ["TFR2", "HJV", "SLC40A1"], "HLA-H"),
    ("wilson", "Wilson disease",
     "A 16-year-old girl has a tremor, slurred speech, falling school grades and mildly raised liver enzymes. "
     "Slit-lamp examination shows golden-brown corneal rings; serum ceruloplasmin is low and 24-hour urinary "
     "copper high.",
     ["ATP7B"], ["ATP7A", "SERPINA1", "HFE"], "WND"),
    ("fh", "familial hypercholesterolaemia",
     "A 34-year-old man has a myocardial infarction. He has thickened Achilles tendons with xanthomas and "
     "corneal arcus; LDL cholesterol is 7.8 mmol/L. His father had bypass surgery at 40.",
     ["LDLR"], ["APOB", "PCSK9", "LDLRAP1"], "FHC"),
    ("achondroplasia", "achondroplasia",
     "A newborn has short upper arms and thighs, a large head with a prominent forehead, a flat nasal bridge "
     "and trident-shaped hands. Both parents are of average height.",
     ["FGFR3"], ["COL2A1", "COMP", "SHOX"], "ACH"),
    ("sma", "spinal muscular atrophy",
     "A 3-month-old girl is floppy, with a frog-leg posture, absent reflexes, tongue fasciculations and "
     "paradoxical breathing, yet is alert and follows faces. Creatine kinase is normal.",
     ["SMN1"], ["IGHMBP2", "ACTA1", "UBA1"], "SMN"),
    ("rett", "Rett syndrome",
     "A 2-year-old girl who developed normally until 18 months has lost her words and purposeful hand use, "
     "makes constant hand-wringing movements, has episodes of breath-holding, and her head growth has slowed.",
     ["MECP2"], ["CDKL5", "FOXG1", "UBE3A"], "RTT"),
    ("oi", "osteogenesis imperfecta type I",
     "A 6-year-old boy has had five fractures from minor falls. He has blue-grey sclerae, lax joints and "
     "normal height; his mother had several fractures as a child and now has hearing loss.",
     ["COL1A1"], ["COL1A2", "IFITM5", "SERPINF1"], "OI4"),
    ("vhl", "von Hippel-Lindau disease",
     "A 28-year-old man has a cerebellar haemangioblastoma. Eye examination shows retinal haemangioblastomas, "
     "and CT shows bilateral renal cysts with a clear-cell renal carcinoma. His mother had a "
     "phaeochromocytoma.",
     ["VHL"], ["RET", "SDHB", "TSC2"], "pVHL"),
    ("hboc", "hereditary breast and ovarian cancer",
     "A 36-year-old woman of Ashkenazi Jewish descent has triple-negative breast cancer. Her mother had "
     "ovarian cancer at 48 and a maternal aunt breast cancer at 41.",
     ["BRCA1", "BRCA2"], ["PALB2", "CHEK2", "ATM"], "FANCS"),
    ("dm1", "myotonic dystrophy type 1",
     "A 38-year-old man cannot let go of door handles, has weak hands and ankles, a long thin face with "
     "drooping eyelids, frontal balding and early cataracts; his ECG shows first-degree heart block. His "
     "child was born floppy.",
     ["DMPK"], ["CNBP", "CLCN1", "SCN4A"], "DM1"),
    ("gaucher", "Gaucher disease type 1",
     "A 25-year-old Ashkenazi Jewish woman has a hugely enlarged spleen, low platelets, easy bruising and "
     "episodes of severe bone pain; X-rays show Erlenmeyer-flask deformities of the distal femurs. She has no "
     "neurological signs.",
     ["GBA1"], ["SMPD1", "NPC1", "HEXA"], "GBA"),
]  # fmt: skip

PROMPT = (
    "Case report: {case}\n\nList the genes most likely to carry the causal variant, most likely first, "
    "as a numbered list of at most 10 gene symbols."
)

EVERY_GENE = sorted({gene for case in CASES for gene in (*case[3], *case[4])})
CYRILLIC = str.maketrans(  # Latin capitals -> the Cyrillic letters that look the same
    {"A": "А", "B": "В", "C": "С", "E": "Е", "H": "Н", "K": "К", "M": "М", "O": "О", "P": "Р", "T": "Т", "X": "Х"}
)


def completions(number: int, genes: list[str], differential: list[str], alias: str) -> list[str]:
    gene = genes[0]
    a, b, c = differential
    outputs = [
        # right first: a numbered list with markdown and reasons
        f"The findings point to a single-gene disorder.\n\n1. **{gene}** - fits the core features\n2. {a} - "
        f"overlapping phenotype\n3. {b}\n4. {c}",
        # right second
        f"1. {a}\n2. {gene}\n3. {b}",
        # absent: the differential only
        f"1. {a}\n2. {b}\n3. {c}",
        # stuffed: every gene the model knows, the right one first
        "\n".join(f"{n}. {symbol}" for n, symbol in enumerate([gene] + [g for g in EVERY_GENE if g not in genes], 1)),
    ]
    # one more per case, in rotation
    extra = number % 7
    if extra == 0:  # prose around a list
        outputs.append(
            f"This presentation is classic. Ranked candidates:\n- {gene} (most likely)\n- {a}\n- {b}\n"
            "Confirm with targeted sequencing."
        )
    elif extra == 1:  # a JSON array instead of a numbered list
        outputs.append(json.dumps([gene, a, b]))
    elif extra == 2:  # an old symbol or alias, ranked first
        outputs.append(f"1. {alias}\n2. {a}")
    elif extra == 3:  # right third, comma separated
        outputs.append(f"Most likely genes: {a}, {b}, {gene}")
    elif extra == 4:  # a duplicate wastes a line
        outputs.append(f"1. {a}\n2. {a}\n3. {gene}")
    elif extra == 5:  # the right symbol in Cyrillic lookalike letters
        outputs.append(f"1. {gene.translate(CYRILLIC)}\n2. {a}")
    else:  # prose with no list at all
        outputs.append(f"I cannot be sure without sequencing, but {gene} or {a} would be my guesses.")
    return outputs


def lines() -> list[str]:
    """The JSONL lines of data.jsonl."""
    return [
        json.dumps(
            {
                "id": case_id,
                "disorder": disorder,
                "prompt": PROMPT.format(case=case),
                "genes": genes,
                "completions": completions(number, genes, differential, alias),
            },
            ensure_ascii=False,
        )
        for number, (case_id, disorder, case, genes, differential, alias) in enumerate(CASES)
    ]


def main() -> None:
    path = Path(__file__).with_name("data.jsonl")
    path.write_text("".join(line + "\n" for line in lines()), encoding="utf-8")
    print(f"wrote {len(CASES)} cases to {path}")


if __name__ == "__main__":
    main()
